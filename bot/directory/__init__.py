"""The directory: members, groups and other targets, presence, search, favourites, recents."""
