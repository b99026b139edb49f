import Foundation
import TestSupport
import Testing

/// volumectl(1) is written from the parser's own definitions: every command and option is in it.
@Suite struct ManualTests {
    @Test func theManualHasEveryCommandAndOption() async throws {
        let binary = (ProcessInfo.processInfo.environment["VOLUMED_BIN"] ?? ".build/debug") + "/volumectl"
        let page = try await ToolRun.run("/bin/sh", ["-c", "'\(binary)' --experimental-dump-help | scripts/volumectl-manual"])
        #expect(page.status == 0, "\(page.stderr)")
        #expect(page.stdout.hasPrefix(".TH VOLUMECTL 1 "))
        let help = try await ToolRun.run(binary, ["--experimental-dump-help"])
        let tool = try #require(try JSONSerialization.jsonObject(with: Data(help.stdout.utf8)) as? [String: Any])
        var commands: [(path: String, options: [String])] = []
        func walk(_ command: [String: Any], _ path: [String]) {
            let options = (command["arguments"] as? [[String: Any]] ?? []).compactMap { argument -> String? in
                guard argument["kind"] as? String != "positional", let name = (argument["preferredName"] as? [String: Any])?["name"] as? String,
                      !["help", "version"].contains(name) else { return nil }
                return "--" + name
            }
            commands.append((path.joined(separator: " "), options))
            for sub in command["subcommands"] as? [[String: Any]] ?? [] where sub["commandName"] as? String != "help" {
                walk(sub, path + [sub["commandName"] as? String ?? ""])
            }
        }
        walk(try #require(tool["command"] as? [String: Any]), ["volumectl"])
        #expect(commands.count > 30)
        let unescaped = page.stdout.replacingOccurrences(of: "\\-", with: "-")
        for command in commands.dropFirst() {
            #expect(unescaped.contains(".SS \(command.path)\n"), "\(command.path) is not in the manual")
            for option in command.options { #expect(unescaped.contains(option), "\(command.path) \(option)") }
        }
        #expect(unescaped.contains(".SS volumectl job list\n") && unescaped.contains("--watch"))
    }
}
