import Logging
import ServiceLifecycle
import VolumeEngine

/// Runs the engine's workers as a service: on graceful shutdown it stops taking jobs and
/// returns once running steps have reached a checkpoint.
struct EngineService: Service {
    let engine: Engine

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await engine.run()
        } onGracefulShutdown: {
            Task { await engine.stop() }
        }
    }
}
