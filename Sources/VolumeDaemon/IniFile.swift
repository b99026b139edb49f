import Foundation

/// A parsed INI file: `[section]` headers and `key = value` lines; `#` and `;` start comments.
/// Keeps each value's line number so that errors can point at it.
struct IniFile: Sendable {
    struct Entry: Sendable {
        var section: String
        var key: String
        var value: String
        var line: Int
    }

    let path: String
    let entries: [Entry]
    /// Every `[section]` header with its line, including sections with no options.
    let sections: [(name: String, line: Int)]

    init(path: String, text: String) throws(ConfigError) {
        self.path = path
        var entries: [Entry] = []
        var sections: [(name: String, line: Int)] = []
        var section = "DEFAULT"
        var seen: Set<String> = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw ConfigError(file: path, line: number, option: nil, message: "malformed section header '\(line)'")
                }
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                sections.append((section, number))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigError(file: path, line: number, option: nil, message: "expected 'option = value', got '\(line)'")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else {
                throw ConfigError(file: path, line: number, option: nil, message: "missing option name before '='")
            }
            guard seen.insert("\(section).\(key)").inserted else {
                throw ConfigError(file: path, line: number, option: key, message: "set twice in [\(section)]")
            }
            entries.append(Entry(section: section, key: key, value: value, line: number))
        }
        self.entries = entries
        self.sections = sections
    }
}
