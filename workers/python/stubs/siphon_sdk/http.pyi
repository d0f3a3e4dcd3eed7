# Type stubs for `siphon_sdk.http`.
from typing import Any, Mapping, Union

from siphon.http import Client

_Body = Union[bytes, bytearray, str, dict[str, Any], list[Any], None]

class HttpStatusError(Exception): ...

class MockResponse:
    status: int
    headers: dict[str, str]
    def __init__(self, status: int = ..., headers: Union[Mapping[str, str], None] = ..., body: _Body = ...) -> None: ...
    @property
    def body(self) -> bytes: ...
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...
    def header(self, name: str, default: Union[str, None] = ...) -> Union[str, None]: ...
    def raise_for_status(self) -> MockResponse: ...

class MockRequest:
    method: str
    path: str
    path_params: dict[str, Any]
    query_params: dict[str, str]
    headers: dict[str, str]
    client: str
    def __init__(
        self,
        *,
        method: str = ...,
        path: str = ...,
        path_params: Union[Mapping[str, Any], None] = ...,
        query_params: Union[Mapping[str, str], None] = ...,
        headers: Union[Mapping[str, str], None] = ...,
        client: str = ...,
        body: _Body = ...,
    ) -> None: ...
    def body(self) -> bytes: ...
    def header(self, name: str, default: Union[str, None] = ...) -> Union[str, None]: ...

class MockHttp:
    """The test's ``http`` namespace: canned answers and what was sent; the decorators and
    types of ``siphon.http`` as attributes."""

    sent_requests: list[dict[str, Any]]
    def __init__(self) -> None: ...
    def __getattr__(self, name: str) -> Any: ...
    def clear(self) -> None: ...
    def add_response(self, response: MockResponse | BaseException) -> None: ...
    def set_response(self, path: str, response: MockResponse) -> None: ...
    def set_default_response(self, response: MockResponse) -> None: ...

MockClient = Client
