/// The core's vocabulary is the wire's: statuses, kinds, and the reports the engine makes and
/// clients read (capacity, drift, connection info) are one type each, defined in `Lifecycle`.
/// A client imports `VolumeProtocol` and has them all.
@_exported import Lifecycle
