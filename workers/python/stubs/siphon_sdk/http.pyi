# Type stubs for `siphon_sdk.http`.
from typing import Any, Mapping, Union

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
