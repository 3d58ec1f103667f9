"""libmpv's render API, both back-ends: OpenGL (the product's video widget) and software.

python-mpv wraps the OpenGL parameters only, so this talks to libmpv through its own ctypes
handle (a separate `CDLL` object, so python-mpv's function prototypes stay untouched). The
software renderer draws into a caller's buffer with no GL at all: the player uses it under
`QT_QPA_PLATFORM=offscreen` (CI, screenshots without a display).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    byref,
    c_char_p,
    c_int,
    c_size_t,
    c_uint64,
    c_void_p,
)

import mpv

# libmpv/render.h parameter ids.
_API_TYPE, _OPENGL_INIT, _OPENGL_FBO, _FLIP_Y = 1, 2, 3, 4
_SW_SIZE, _SW_FORMAT, _SW_STRIDE, _SW_POINTER = 17, 18, 19, 20
_UPDATE_FRAME = 1


class _Param(Structure):
    _fields_ = [("type", c_int), ("data", c_void_p)]


GetProcAddress = CFUNCTYPE(c_void_p, c_void_p, c_char_p)
_UpdateCallback = CFUNCTYPE(None, c_void_p)


class _OpenGlInit(Structure):
    _fields_ = [("get_proc_address", GetProcAddress), ("ctx", c_void_p)]


class _OpenGlFbo(Structure):
    _fields_ = [("fbo", c_int), ("w", c_int), ("h", c_int), ("internal_format", c_int)]


def _library() -> ctypes.CDLL:
    lib = ctypes.CDLL(mpv.backend._name)
    lib.mpv_render_context_create.argtypes = [POINTER(c_void_p), c_void_p, POINTER(_Param)]
    lib.mpv_render_context_create.restype = c_int
    lib.mpv_render_context_render.argtypes = [c_void_p, POINTER(_Param)]
    lib.mpv_render_context_render.restype = c_int
    lib.mpv_render_context_update.argtypes = [c_void_p]
    lib.mpv_render_context_update.restype = c_uint64
    lib.mpv_render_context_set_update_callback.argtypes = [c_void_p, _UpdateCallback, c_void_p]
    lib.mpv_render_context_free.argtypes = [c_void_p]
    lib.mpv_error_string.argtypes = [c_int]
    lib.mpv_error_string.restype = c_char_p
    return lib


def _params(*pairs: tuple[int, c_void_p | int | None]) -> ctypes.Array[_Param]:
    array = (_Param * (len(pairs) + 1))()
    for i, (kind, data) in enumerate(pairs):
        array[i].type = kind
        array[i].data = data
    return array  # the last entry stays {0, NULL}: the terminator


class RenderContext:
    """One render context on an `mpv.MPV` created with `vo="libmpv"`. Free it before `terminate`."""

    def __init__(
        self, player: mpv.MPV, api: str, get_proc_address: Callable[[bytes], int] | None = None
    ) -> None:
        self._lib = _library()
        self._handle = c_void_p()
        self._api = c_char_p(api.encode())
        pairs: list[tuple[int, c_void_p | int | None]] = [
            (_API_TYPE, ctypes.cast(self._api, c_void_p))
        ]
        if api == "opengl":
            if get_proc_address is None:
                raise ValueError("the OpenGL renderer needs get_proc_address")
            resolve = get_proc_address
            self._gpa = GetProcAddress(lambda _ctx, name: resolve(name) or None)
            self._gl_init = _OpenGlInit(self._gpa, None)
            pairs.append((_OPENGL_INIT, ctypes.cast(byref(self._gl_init), c_void_p)))
        code = self._lib.mpv_render_context_create(
            byref(self._handle), c_void_p(player.handle.value), _params(*pairs)
        )
        if code < 0:
            reason = self._lib.mpv_error_string(code).decode()
            raise RuntimeError(f"libmpv cannot create a {api} render context: {reason}")
        self._callback: object = None  # kept alive while libmpv holds it

    def set_update_callback(self, callback: Callable[[], None]) -> None:
        """`callback` runs on a libmpv thread whenever a new frame is ready: only signal from it."""
        self._callback = _UpdateCallback(lambda _data: callback())
        self._lib.mpv_render_context_set_update_callback(self._handle, self._callback, None)

    def frame_ready(self) -> bool:
        return bool(self._lib.mpv_render_context_update(self._handle) & _UPDATE_FRAME)

    def render_opengl(self, fbo: int, width: int, height: int) -> None:
        target = _OpenGlFbo(fbo, width, height, 0)
        flip = c_int(1)  # Qt's framebuffers are bottom-up
        self._lib.mpv_render_context_render(
            self._handle,
            _params(
                (_OPENGL_FBO, ctypes.cast(byref(target), c_void_p)),
                (_FLIP_Y, ctypes.cast(byref(flip), c_void_p)),
            ),
        )

    def render_software(self, width: int, height: int, buffer: ctypes.Array[ctypes.c_char]) -> None:
        """Draw the current frame as 32-bit `rgb0` into `buffer` (width * height * 4 bytes)."""
        size = (c_int * 2)(width, height)
        fmt = c_char_p(b"rgb0")
        stride = c_size_t(width * 4)
        self._lib.mpv_render_context_render(
            self._handle,
            _params(
                (_SW_SIZE, ctypes.cast(size, c_void_p)),
                (_SW_FORMAT, ctypes.cast(fmt, c_void_p)),
                (_SW_STRIDE, ctypes.cast(byref(stride), c_void_p)),
                (_SW_POINTER, ctypes.cast(buffer, c_void_p)),
            ),
        )

    def free(self) -> None:
        if self._handle:
            self._lib.mpv_render_context_set_update_callback(self._handle, _UpdateCallback(), None)
            self._lib.mpv_render_context_free(self._handle)
            self._handle = c_void_p()
