"""`dealscope tenants ...` and `dealscope users ...`: the operator's accounts commands.

They call the same service functions as the API (`dealscope.api.auth`), on the configured
warehouse. Passwords are typed at a hidden prompt (twice) or read from stdin with
`--password-stdin`, never passed as an option where shell history and `ps` would keep them.
Expected failures are domain errors, printed as one line by the root app.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated, Any, TypeVar

import pydantic
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dealscope.api.auth import tenants as tenant_service
from dealscope.api.auth import users as user_service
from dealscope.api.auth.schemas import TenantCreate, UserCreate
from dealscope.errors import ValidationFailed
from dealscope.kit.roles import Role
from dealscope.warehouse.migrate import opened_warehouse
from dealscope.warehouse.unit_of_work import unit_of_work

console = Console(soft_wrap=True)

tenants_app = typer.Typer(help="Tenants (brokerages) of this DealScope.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts of a tenant.", no_args_is_help=True)

Model = TypeVar("Model", bound=pydantic.BaseModel)

TenantOption = Annotated[str, typer.Option("--tenant", help="The tenant's slug.")]
EmailOption = Annotated[str, typer.Option("--email", help="The user's email.")]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _validated(model: type[Model], **fields: Any) -> Model:
    """`model(**fields)`, with pydantic's complaints as one ValidationFailed line."""
    try:
        return model(**fields)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValidationFailed(problems) from exc


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ValidationFailed("--password-stdin was given but stdin had no password line")
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


# --- tenants ---------------------------------------------------------------------------


@tenants_app.command("add")
def tenants_add(
    slug: Annotated[str, typer.Option(help="Short name in URLs and sign-in, e.g. summit-ridge.")],
    name: Annotated[str, typer.Option(help="The brokerage's name.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "America/New_York",
    currency: Annotated[str, typer.Option(help="ISO 4217 currency code.")] = "USD",
) -> None:
    """Create an empty tenant."""
    data = _validated(
        TenantCreate, slug=slug, name=name, timezone=timezone, currency=currency.upper()
    )
    with (
        opened_warehouse() as warehouse,
        unit_of_work(warehouse) as uow,
    ):
        tenant = tenant_service.create_tenant(uow, data, _now())
    console.print(
        f"Created tenant '{escape(tenant.slug)}' (id {tenant.id}). Add its first admin with: "
        f"dealscope users add --tenant {escape(tenant.slug)} --role admin --email ... --name ..."
    )


@tenants_app.command("list")
def tenants_list() -> None:
    """List the tenants."""
    with (
        opened_warehouse() as warehouse,
        warehouse.engine.connect() as conn,
    ):
        found = tenant_service.list_tenants(conn)
    if not found:
        console.print(
            "No tenants yet; create one with: dealscope tenants add --slug ... --name ..."
        )
        return
    table = Table()
    for column in ("id", "slug", "name", "timezone", "currency", "active"):
        table.add_column(column, no_wrap=column in ("slug", "timezone"))
    for tenant in found:
        table.add_row(
            str(tenant.id), tenant.slug, tenant.name, tenant.timezone, tenant.currency,
            "yes" if tenant.is_active else "no",
        )  # fmt: skip
    console.print(table)


# --- users -----------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    tenant: TenantOption,
    email: EmailOption,
    name: Annotated[str, typer.Option("--name", help="The user's full name.")],
    role: Annotated[Role, typer.Option(help="What the user may do and see.")],
    agent_id: Annotated[int | None, typer.Option(help="The agent an agent user is.")] = None,
    team_id: Annotated[int | None, typer.Option(help="The team a manager manages.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (scripts).")
    ] = False,
) -> None:
    """Create a user; the password is prompted for (twice) unless --password-stdin."""
    password = _read_password(password_stdin)
    data = _validated(
        UserCreate,
        email=email,
        full_name=name,
        password=password,
        role=role,
        agent_id=agent_id,
        team_id=team_id,
    )
    with (
        opened_warehouse() as warehouse,
        unit_of_work(warehouse) as uow,
    ):
        tenant_id = tenant_service.get_tenant_by_slug(uow.connection, tenant).id
        user = user_service.create_user(uow, tenant_id, data, _now())
    console.print(
        f"Created user {escape(user.email)} (id {user.id}, role {user.role.value}) "
        f"in tenant '{escape(tenant)}'."
    )


@users_app.command("list")
def users_list(tenant: TenantOption) -> None:
    """List a tenant's users."""
    with (
        opened_warehouse() as warehouse,
        warehouse.engine.connect() as conn,
    ):
        tenant_id = tenant_service.get_tenant_by_slug(conn, tenant).id
        found = user_service.list_users(conn, tenant_id)
    table = Table(title=f"Users of {tenant!r}", title_justify="left")
    for column in ("id", "email", "name", "role", "agent", "team", "status", "last sign-in"):
        table.add_column(column, no_wrap=column == "email")
    now = _now()
    for user in found:
        status = "active" if user.is_active else "disabled"
        if user.locked_until is not None and user.locked_until > now:
            status = f"locked until {user.locked_until:%Y-%m-%d %H:%M} UTC"
        table.add_row(
            str(user.id), user.email, user.full_name, user.role.value,
            "" if user.agent_id is None else str(user.agent_id),
            "" if user.team_id is None else str(user.team_id),
            status,
            "never" if user.last_login_at is None else f"{user.last_login_at:%Y-%m-%d %H:%M}",
        )  # fmt: skip
    console.print(table)


@users_app.command("disable")
def users_disable(tenant: TenantOption, email: EmailOption) -> None:
    """Disable a user: no more sign-ins, and their sessions end now."""
    with (
        opened_warehouse() as warehouse,
        unit_of_work(warehouse) as uow,
    ):
        tenant_id = tenant_service.get_tenant_by_slug(uow.connection, tenant).id
        user = user_service.get_user_by_email(uow.connection, tenant_id, email)
        user_service.disable_user(uow, tenant_id, user.id, _now())
    console.print(f"Disabled {escape(user.email)} in tenant '{escape(tenant)}'; sessions ended.")


@users_app.command("unlock")
def users_unlock(tenant: TenantOption, email: EmailOption) -> None:
    """Lift a lockout after failed sign-ins."""
    with (
        opened_warehouse() as warehouse,
        unit_of_work(warehouse) as uow,
    ):
        tenant_id = tenant_service.get_tenant_by_slug(uow.connection, tenant).id
        user = user_service.get_user_by_email(uow.connection, tenant_id, email)
        user_service.unlock_user(uow, tenant_id, user.id)
    console.print(f"Unlocked {escape(user.email)} in tenant '{escape(tenant)}'.")
