"""Database sessions whose table holds no usable session key.

Django's database store keeps the cookie's value (the session key) in ``django_session`` as it is,
so a dump of the table is a list of live sign-ins, admins' included. Here the row's key is a keyed
hash of the cookie value (HMAC-SHA-256 under ``PORTAL_HASH_KEY``, like consumer secrets and API
tokens): the server finds a session from the cookie, a dump cannot be turned back into a cookie.
160 bits of the hash fit Django's 40-character column, so no migration of Django's table is needed.

Changing ``PORTAL_HASH_KEY`` signs everybody out; so does switching to this store (old rows hold
clear keys, which no cookie hashes to). ``clearsessions`` works as before (it reads only dates).
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.utils import timezone

from portal import crypto


def stored_key(session_key: str) -> str:
    """What ``django_session.session_key`` holds for a cookie's session key."""
    return crypto.keyed_hash("session:" + session_key)[:40]


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        if not self.session_key:  # an invalid cookie value: Django set the key to None
            return None
        try:
            return self.model.objects.get(
                session_key=stored_key(self.session_key), expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None
            return None

    async def _aget_session_from_db(self):
        if not self.session_key:
            return None
        try:
            return await self.model.objects.aget(
                session_key=stored_key(self.session_key), expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None
            return None

    def exists(self, session_key):
        return self.model.objects.filter(session_key=stored_key(session_key)).exists()

    async def aexists(self, session_key):
        return await self.model.objects.filter(session_key=stored_key(session_key)).aexists()

    def create_model_instance(self, data):
        return self.model(
            session_key=stored_key(self._get_or_create_session_key()),
            session_data=self.encode(data),
            expire_date=self.get_expiry_date(),
        )

    async def acreate_model_instance(self, data):
        return self.model(
            session_key=stored_key(await self._aget_or_create_session_key()),
            session_data=self.encode(data),
            expire_date=await self.aget_expiry_date(),
        )

    def delete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key:
            self.model.objects.filter(session_key=stored_key(session_key)).delete()

    async def adelete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key:
            await self.model.objects.filter(session_key=stored_key(session_key)).adelete()
