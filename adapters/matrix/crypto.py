"""End-to-end encryption for the bot (ADP-3): mautrix's ``OlmMachine`` with python-olm.

The bot logs in as the appservice (``m.login.application_service``) to get a device of its
own, keeps its Olm account in ``matrix_crypto`` (the adapter's migrations), takes the
to-device traffic, device lists and one-time key counts the homeserver pushes with each
transaction (MSC2409 / MSC3202; Synapse lets no appservice user /sync), decrypts what
members write in encrypted rooms and encrypts what it sends there, sharing a Megolm session
with the room's members first. Cross-signing is not used. If python-olm cannot load,
``start`` says why and the adapter tells members in their encrypted rooms instead of
staying silent.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any, cast

from mautrix.types import EventType, RoomID, UserID

if TYPE_CHECKING:
    from mautrix.client import Client
    from mautrix.crypto import OlmMachine

    from adapters.matrix.config import MatrixConfig
    from adapters.matrix.homeserver import Homeserver
    from bot.port import AdapterStore

log = logging.getLogger("backline.matrix")
PICKLE_KEY = "backline.matrix.crypto"
DEVICE_NAME = "backline"


class Crypto:
    """The bot's device: decrypts and encrypts room events."""

    def __init__(self, config: MatrixConfig, hs: Homeserver, store: AdapterStore) -> None:
        self.config = config
        self.hs = hs
        self.store = store
        self.machine: OlmMachine | None = None
        self.client: Client | None = None
        self.missing = ""  # why there is no crypto, once start has run

    @property
    def ready(self) -> bool:
        """Whether encrypted rooms can be read and written."""
        return self.machine is not None

    def _stored(self, key: str) -> str | None:
        rows = self.store.rows("SELECT value FROM matrix_crypto WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    async def _keep(self, key: str, value: str) -> None:
        await self.store.write(
            ("INSERT OR REPLACE INTO matrix_crypto (key, value) VALUES (?, ?)", (key, value))
        )

    async def start(self) -> str:
        """Log the bot's device in and start its to-device sync; '' or why not."""
        try:
            from mautrix.client import Client
            from mautrix.crypto import OlmAccount, OlmMachine
            from mautrix.crypto.store.memory import MemoryCryptoStore
            from mautrix.types import LoginType
        except ImportError as exc:
            self.missing = f"python-olm does not load: {exc}"
            return self.missing
        device_id = self._stored("device_id")
        crypto_store = MemoryCryptoStore(self.config.bot, PICKLE_KEY)
        pickled = self._stored("account")
        if pickled is not None:
            await crypto_store.put_account(
                OlmAccount.from_pickle(pickled.encode(), PICKLE_KEY, shared=True)
            )
        client = Client(
            mxid=UserID(self.config.bot),
            base_url=self.config.homeserver,
            sync_store=crypto_store,
            state_store=self.hs.state,
            log=cast(Any, logging.getLogger("backline.matrix.crypto")),
            client_session=self.hs.session,
        )
        client.api.token = self.config.as_token
        await self.hs.call(
            lambda: client.login(
                login_type=LoginType.APPSERVICE,
                device_name=DEVICE_NAME,
                device_id=device_id,
                store_access_token=True,
                update_hs_url=False,
            )
        )
        machine = OlmMachine(client, crypto_store, cast(Any, self.hs.state))
        await machine.load()
        await self.hs.call(machine.share_keys)
        await self._keep("device_id", str(client.device_id))
        self.client, self.machine = client, machine
        await self._keep_account()
        log.info("matrix: end-to-end encryption on, device %s", client.device_id)
        return ""

    async def _keep_account(self) -> None:
        """Store the Olm account as it is now (its one-time keys change as they are used)."""
        if self.machine is not None:
            account = cast(Any, self.machine.account)
            await self._keep("account", account.pickle(PICKLE_KEY).decode())

    def stop(self) -> None:
        """Forget the device's session (its account stays stored)."""
        self.client = self.machine = None

    async def device_traffic(
        self, to_device: list[dict[str, Any]], device_lists: dict[str, Any], counts: dict[str, Any]
    ) -> None:
        """To-device events (room keys), device list changes and one-time key counts."""
        machine = self.machine
        if machine is None:
            return
        from mautrix.types import ASToDeviceEvent, DeviceLists, DeviceOTKCount

        if counts:
            await machine.handle_as_otk_counts(
                {
                    UserID(user): {
                        device: DeviceOTKCount.deserialize(count)
                        for device, count in devices.items()
                    }
                    for user, devices in counts.items()
                }
            )
        if device_lists:
            await machine.handle_as_device_lists(DeviceLists.deserialize(cast(Any, device_lists)))
        for raw in to_device:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # peers' sender_key
                event = cast(ASToDeviceEvent, ASToDeviceEvent.deserialize(cast(Any, raw)))
                await machine.handle_as_to_device_event(event)
        if counts or to_device:
            await self._keep_account()

    async def member_changed(self, raw: dict[str, Any]) -> None:
        """A membership in an encrypted room: sessions rotate when someone leaves."""
        if self.machine is None:
            return
        from mautrix.types import StateEvent

        await self.machine.handle_member_event(StateEvent.deserialize(cast(Any, raw)))

    async def decrypt(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        """The event an ``m.room.encrypted`` event carries, as raw JSON, or None."""
        if self.machine is None:
            return None
        from mautrix.errors import SessionNotFound
        from mautrix.types import EncryptedEvent

        event = EncryptedEvent.deserialize(cast(Any, raw))
        with warnings.catch_warnings():
            # mautrix warns when a peer still sends the deprecated sender_key: not an error
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                found = await self.machine.decrypt_megolm_event(event)
            except SessionNotFound as missing:
                if not await self.machine.wait_for_session(event.room_id, missing.session_id, 5):
                    raise
                found = await self.machine.decrypt_megolm_event(event)
        plain: dict[str, Any] = found.serialize()
        plain.setdefault("event_id", raw.get("event_id"))
        plain.setdefault("sender", raw.get("sender"))
        plain.setdefault("room_id", raw.get("room_id"))
        return plain

    async def encrypt(self, room_id: str, content: dict[str, Any]) -> dict[str, Any]:
        """``content`` as an ``m.room.encrypted`` content for the room's members."""
        from mautrix.errors import EncryptionError

        machine = self.machine
        assert machine is not None, "encrypt only when ready"
        room = RoomID(room_id)
        try:
            sealed = await machine.encrypt_megolm_event(room, EventType.ROOM_MESSAGE, content)
        except EncryptionError:
            bot = self.hs.bot
            members = list(await self.hs.call(lambda: bot.get_joined_members(room)))
            await self.hs.call(lambda: machine.share_group_session(room, members))
            sealed = await machine.encrypt_megolm_event(room, EventType.ROOM_MESSAGE, content)
        result: dict[str, Any] = sealed.serialize()
        return result
