"""GET /health: is the API up, and can it reach its warehouse (and Redis)?"""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter, Response, status

from dealscope import __version__
from dealscope.api.deps import RedisDep, WarehouseDep
from dealscope.api.probes import probe_database, probe_redis
from dealscope.api.schemas import HealthRead
from dealscope.warehouse.migrate import head_revision

router = APIRouter(tags=["health"])

# The head revision is fixed for the life of the process; reading it parses the migrations.
_head_revision = cache(head_revision)


@router.get(
    "/health",
    response_model=HealthRead,
    responses={503: {"model": HealthRead, "description": "The database is not reachable."}},
)
def read_health(warehouse: WarehouseDep, redis_client: RedisDep, response: Response) -> HealthRead:
    # A plain `def`: FastAPI runs it in a worker thread, so the blocking probes are fine.
    database = probe_database(warehouse)
    cache = probe_redis(redis_client)
    problems = [p for p in (database.problem, cache.problem) if p is not None]
    schema_current = database.revision == _head_revision()
    if database.reachable and not schema_current:
        problems.append(
            f"the schema is at revision {database.revision} but this code needs "
            f"{_head_revision()}; run `dealscope db upgrade`"
        )
    if not database.reachable:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthRead(
        status="degraded" if problems else "ok",
        version=__version__,
        backend=warehouse.backend,
        schema_revision=database.revision,
        schema_current=schema_current,
        database="ok" if database.reachable else "unreachable",
        redis=cache.state,
        problems=problems,
    )
