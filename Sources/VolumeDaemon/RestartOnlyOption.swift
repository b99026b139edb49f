/// An option a reload does not apply: its name in the file, and how to compare and keep it.
struct RestartOnlyOption: Sendable {
    let name: String
    let differs: @Sendable (Configuration, Configuration) -> Bool
    let keep: @Sendable (inout Configuration, Configuration) -> Void

    init<Value: Equatable & Sendable>(_ name: String, _ path: any WritableKeyPath<Configuration, Value> & Sendable) {
        self.name = name
        differs = { $0[keyPath: path] != $1[keyPath: path] }
        keep = { $0[keyPath: path] = $1[keyPath: path] }
    }
}
