"""What the accounts API reads and writes. Unknown fields are refused; passwords are never echoed back."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from marketdesk.accounts.roles import Role
from marketdesk.accounts.views import AuthStatus, DeskSettingsView, SessionView, TokenPair, UserView

EMAIL_FIELD = Field(min_length=3, max_length=254, examples=["ann@example.com"])
PASSWORD_FIELD = Field(min_length=1, max_length=1024)  # the policy (12 to 256 characters) explains itself


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Credentials(Strict):
    email: str = EMAIL_FIELD
    password: str = PASSWORD_FIELD


class RefreshRequest(Strict):
    refresh_token: str | None = Field(
        default=None, max_length=512, description="omit it to use the md_refresh cookie (the web desk)"
    )


class Tokens(Strict):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int = Field(description="seconds the access token lives")

    @classmethod
    def of(cls, pair: TokenPair) -> Tokens:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type=pair.token_type,
            expires_in=pair.expires_in,
        )


class Me(Strict):
    id: str
    email: str
    role: Role
    session_id: str


class PasswordChange(Strict):
    current_password: str = PASSWORD_FIELD
    new_password: str = PASSWORD_FIELD


class Session(Strict):
    id: str
    started_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str
    current: bool

    @classmethod
    def of(cls, view: SessionView) -> Session:
        return cls(
            id=view.id,
            started_at=view.started_at,
            last_used_at=view.last_used_at,
            expires_at=view.expires_at,
            user_agent=view.user_agent,
            ip=view.ip,
            current=view.current,
        )


class Status(Strict):
    has_users: bool = Field(description="false on a fresh desk: its first registration becomes the admin")
    registration_open: bool

    @classmethod
    def of(cls, status: AuthStatus) -> Status:
        return cls(has_users=status.has_users, registration_open=status.registration_open)


class User(Strict):
    id: str
    email: str
    role: Role
    disabled: bool
    created_at: datetime
    locked_until: datetime | None

    @classmethod
    def of(cls, view: UserView) -> User:
        return cls(
            id=view.id,
            email=view.email,
            role=view.role,
            disabled=view.disabled,
            created_at=view.created_at,
            locked_until=view.locked_until,
        )


class UserCreate(Strict):
    email: str = EMAIL_FIELD
    password: str = PASSWORD_FIELD
    role: Role = Role.VIEWER


class UserUpdate(Strict):
    role: Role | None = None
    disabled: bool | None = None


class DeskSettings(Strict):
    open_registration: bool
    registration_role: Role

    @classmethod
    def of(cls, view: DeskSettingsView) -> DeskSettings:
        return cls(open_registration=view.open_registration, registration_role=view.registration_role)


class DeskSettingsUpdate(Strict):
    open_registration: bool | None = None
    registration_role: Role | None = None
