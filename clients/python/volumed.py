"""volumed's client for Python: JSON-RPC 2.0 over volumed's Unix socket, standard library only.

    import volumed
    client = volumed.Client()                      # $VOLUMED_SOCKET or /run/volumed/volumed.sock
    volume = client.volume_create(size_gb=10, name="db", wait=True)["volume"]
    for event in client.job_watch(job_id):         # progress notifications until the job ends
        print(event["progress"], event["state"])
    image = client.image_upload("disk.raw", name="debian", wait=True)["image"]
    client.image_export(image["id"], "copy.raw")
    try:
        client.volume_get(volume_id="00000000-0000-0000-0000-000000000000")
    except volumed.NotFound as error:
        print(error.kind, error)

Every protocol method is a method named after it (`volume.create` is `volume_create`), taking the
method's parameters as keyword arguments; errors are `VolumedError` subclasses named after their
`kind`. Image data travels on the connection (volumed opens no file a client names): the client reads
and writes the files itself, with its own rights.
"""

import json
import os
import socket
import struct

__all__ = ["Client", "VolumedError", "METHODS"]

# The protocol's methods and their parameters (docs/protocol.md; a test checks this table
# against the daemon's own list).
METHODS = {
    "volume.create": ["size_gb", "name", "source", "pool", "multiattach", "idempotency_key", "wait"],
    "volume.delete": ["volume_id", "force", "wait"],
    "volume.extend": ["volume_id", "size_gb", "wait"],
    "volume.flatten": ["volume_id", "wait"],
    "volume.get": ["volume_id"],
    "volume.usage": ["volume_id"],
    "volume.list": ["limit", "marker", "paged", "deleted"],
    "volume.revert": ["volume_id", "snapshot_id", "force", "wait"],
    "volume.attach": ["volume_id", "connector"],
    "volume.detach": ["volume_id", "attachment_id"],
    "volume.manage": ["pool", "rbd_image", "name", "wait"],
    "volume.unmanage": ["volume_id", "wait"],
    "volume.undelete": ["volume_id", "wait"],
    "image.create": ["name", "size_bytes", "source", "wait"],
    "image.get": ["image_id"],
    "image.list": [],
    "image.export": ["image_id", "offset", "length", "wait"],
    "image.delete": ["image_id", "wait"],
    "snapshot.create": ["volume_id", "name", "idempotency_key", "wait"],
    "snapshot.delete": ["snapshot_id", "wait"],
    "backup.create": ["volume_id", "name", "incremental", "wait"],
    "backup.restore": ["backup_id", "volume_id", "wait"],
    "backup.delete": ["backup_id", "wait"],
    "backup.get": ["backup_id"],
    "backup.list": ["volume_id"],
    "schedule.create": ["volume_id", "interval_s", "keep"],
    "schedule.delete": ["schedule_id"],
    "schedule.list": ["volume_id"],
    "snapshot.get": ["snapshot_id"],
    "snapshot.list": ["volume_id"],
    "job.get": ["job_id"],
    "job.list": ["volume_id", "limit", "watch"],
    "job.cancel": ["job_id"],
    "job.wait": ["job_id"],
    "job.watch": ["job_id"],
    "service.status": [],
    "service.capacity": [],
    "service.metrics": [],
    "service.reconcile": ["fix"],
    "rpc.discover": [],
}

_HOLE = 1 << 63
_PIECE = 4 << 20


class VolumedError(Exception):
    """An error reply: `code` (JSON-RPC), `kind` (volumed's word for it), `job_id` when a job failed."""

    def __init__(self, code, message, kind=None, job_id=None):
        super().__init__(message)
        self.code, self.message, self.kind, self.job_id = code, message, kind, job_id


class NotFound(VolumedError): pass
class Conflict(VolumedError): pass
class InUse(VolumedError): pass
class Busy(VolumedError): pass
class ClusterUnavailable(VolumedError): pass
class Cancelled(VolumedError): pass
class PermissionDenied(VolumedError): pass
class StorageUnavailable(VolumedError): pass
class InvalidParams(VolumedError): pass
class Standby(VolumedError): pass
class InternalError(VolumedError): pass


_KINDS = {
    "not_found": NotFound, "conflict": Conflict, "in_use": InUse, "busy": Busy,
    "cluster_unavailable": ClusterUnavailable, "cancelled": Cancelled, "permission_denied": PermissionDenied,
    "storage_unavailable": StorageUnavailable, "invalid_params": InvalidParams, "standby": Standby,
    "internal": InternalError,
}
for _name, _cls in list(_KINDS.items()):
    __all__.append(_cls.__name__)


def _error(error):
    data = error.get("data") or {}
    kind = data.get("kind")
    if kind is None and error.get("code") == -32602:
        kind = "invalid_params"
    cls = _KINDS.get(kind, VolumedError)
    return cls(error.get("code"), error.get("message", ""), kind, data.get("job_id"))


class Client:
    """One connection to volumed; calls take turns on it (not for several threads at once)."""

    def __init__(self, path=None):
        self.path = path or os.environ.get("VOLUMED_SOCKET", "/run/volumed/volumed.sock")
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.connect(self.path)
        self._reader = self._socket.makefile("rb")
        self._next_id = 1

    def close(self):
        self._reader.close()
        self._socket.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- the wire ---------------------------------------------------------------------------

    def _send(self, method, params):
        request_id = self._next_id
        self._next_id += 1
        line = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        self._socket.sendall(line.encode() + b"\n")
        return request_id

    def _line(self):
        line = self._reader.readline()
        if not line:
            raise ConnectionError("volumed closed the connection")
        return json.loads(line)

    def _reply(self, request_id, on_notification=None, until=None):
        """The reply to `request_id` (its result, or the error raised); notifications go to
        `on_notification`; with `until`, returns the first notification of that method instead."""
        while True:
            message = self._line()
            if message.get("id") is None and "method" in message:
                if until and message.get("method") == until:
                    return message.get("params")
                if on_notification:
                    on_notification(message)
                continue
            if message.get("id") is None and message.get("error"):
                raise _error(message["error"])  # the connection itself refused (busy), or a broken line
            if message.get("id") != request_id:
                continue
            if "error" in message and message["error"] is not None:
                raise _error(message["error"])
            return message.get("result")

    def call(self, method, **params):
        """Calls `method` with `params` (None values left out); its result, or an error raised."""
        params = {key: value for key, value in params.items() if value is not None}
        return self._reply(self._send(method, params))

    # --- the methods that need more than one reply ------------------------------------------

    def job_watch(self, job_id):
        """Yields the job's `job.progress` notifications until its last one (final state)."""
        events = []
        self._reply(self._send("job.watch", {"job_id": job_id}), events.append)
        for event in events:
            yield event["params"]
            if event["params"].get("state") not in ("queued", "running"):
                return
        while True:
            message = self._line()
            if message.get("method") != "job.progress":
                continue
            yield message["params"]
            if message["params"].get("state") not in ("queued", "running"):
                return

    def image_upload(self, source, name=None, size_bytes=None, wait=None):
        """`image.create` with the bytes of `source` (a path or a binary file object) sent on the
        connection; zero pieces travel as holes. The reply (job and image)."""
        params = {"upload": "stream", "name": name, "size_bytes": size_bytes, "wait": wait}
        request_id = self._send("image.create", {k: v for k, v in params.items() if v is not None})
        self._reply(request_id, until="upload.ready")
        stream = open(source, "rb") if isinstance(source, (str, bytes, os.PathLike)) else source
        try:
            while True:
                piece = stream.read(_PIECE)
                if not piece:
                    break
                if piece.count(0) == len(piece):
                    self._socket.sendall(struct.pack(">Q", _HOLE | len(piece)))
                else:
                    self._socket.sendall(struct.pack(">Q", len(piece)) + piece)
            self._socket.sendall(struct.pack(">Q", 0))
        finally:
            if stream is not source:
                stream.close()
        return self._reply(request_id)

    def image_export(self, image_id, destination, offset=None, length=None, wait=None):
        """`image.export` into `destination` (a path or a binary file object); holes stay holes in
        a regular file. The reply comes once the job has ended (`wait` is implied): the job, whose
        note has the sha256."""
        params = {"image_id": image_id, "download": "stream", "offset": offset, "length": length}
        request_id = self._send("image.export", {k: v for k, v in params.items() if v is not None})
        self._reply(request_id, until="download.ready")
        sink = open(destination, "wb") if isinstance(destination, (str, bytes, os.PathLike)) else destination
        try:
            written = 0
            while True:
                (header,) = struct.unpack(">Q", self._exactly(8))
                if header == 0:
                    break
                if header & _HOLE:
                    count = header & ~_HOLE
                    if sink.seekable():
                        sink.seek(count, os.SEEK_CUR)
                    else:
                        for start in range(0, count, _PIECE):
                            sink.write(bytes(min(_PIECE, count - start)))
                    written += count
                else:
                    left = header
                    while left:
                        chunk = self._exactly(min(left, _PIECE))
                        sink.write(chunk)
                        left -= len(chunk)
                    written += header
            if sink.seekable():
                sink.truncate(written)
        finally:
            if sink is not destination:
                sink.close()
        return self._reply(request_id)

    def _exactly(self, count):
        data = self._reader.read(count)
        if len(data) != count:
            raise ConnectionError("volumed closed the connection mid-transfer")
        return data


def _method(name, allowed):
    def call(self, **params):
        unknown = set(params) - set(allowed)
        if unknown:
            raise TypeError(f"{name} takes {', '.join(allowed) or 'no parameters'}, not {', '.join(sorted(unknown))}")
        return self.call(name, **params)
    call.__name__ = name.replace(".", "_")
    call.__doc__ = f"`{name}` with its parameters ({', '.join(allowed) or 'none'}) as keywords; its result."
    return call


Client.image_create = Client.image_upload
for _name, _allowed in METHODS.items():
    _attribute = _name.replace(".", "_")
    if not hasattr(Client, _attribute):
        setattr(Client, _attribute, _method(_name, _allowed))
