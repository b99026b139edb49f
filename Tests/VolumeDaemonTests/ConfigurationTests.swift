import Foundation
import Testing
@testable import VolumeDaemon

@Suite struct ConfigurationTests {
    let cephConf: String

    init() throws {
        cephConf = NSTemporaryDirectory() + "ceph-\(UUID().uuidString).conf"
        try "[global]\n".write(toFile: cephConf, atomically: true, encoding: .utf8)
    }

    func parse(_ text: String) throws(ConfigError) -> Configuration {
        try Configuration.parse(IniFile(path: "/etc/volumed/volumed.conf", text: text))
    }

    /// Under systemd the key comes as the credential `rbd_keyring` (readable by the service
    /// alone); an `rbd_keyring` in the file still wins, and without either librados looks as usual.
    @Test func theKeyringComesFromSystemdsCredentialUnlessTheFileNamesOne() throws {
        let folder = NSTemporaryDirectory() + "volumed-conf-\(UUID().uuidString.prefix(8))"
        let credentials = folder + "/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "[client.volumed]\n".write(toFile: credentials + "/rbd_keyring", atomically: true, encoding: .utf8)
        let own = folder + "/own.keyring"
        try "[client.volumed]\n".write(toFile: own, atomically: true, encoding: .utf8)
        let plain = folder + "/plain.conf", named = folder + "/named.conf"
        try "[rbd]\nrbd_ceph_conf = \(cephConf)\n".write(toFile: plain, atomically: true, encoding: .utf8)
        try "[rbd]\nrbd_ceph_conf = \(cephConf)\nrbd_keyring = \(own)\n".write(toFile: named, atomically: true, encoding: .utf8)

        #expect(try Configuration.load(path: plain, credentialsDirectory: credentials).rbdKeyring == credentials + "/rbd_keyring")
        #expect(try Configuration.load(path: named, credentialsDirectory: credentials).rbdKeyring == own)
        #expect(try Configuration.load(path: plain, credentialsDirectory: nil).rbdKeyring == nil)
        #expect(try Configuration.load(path: plain, credentialsDirectory: folder + "/none").rbdKeyring == nil)
    }

    @Test func defaultsFollowCinder() throws {
        let config = try parse("[rbd]\nrbd_ceph_conf = \(cephConf)\n")
        #expect(config.rbdPool == "volumes")
        #expect(config.rbdMaxCloneDepth == 5)
        #expect(config.rbdFlattenVolumeFromSnapshot == false)
        #expect(config.rbdStoreChunkSize == 4)
        #expect(config.engine.imageOrder == 22)
        #expect(config.radosConnectTimeout == -1)
        #expect(config.radosConnectionRetries == 3)
        #expect(config.radosConnectionInterval == 5)
        #expect(config.rbdConcurrentFlattenOperations == 3)
        #expect(config.imagesPool == "images")
        #expect(config.imagesChunkSize == 8)
        #expect(config.workers == 16)
        #expect(config.socketPath == "/run/volumed/volumed.sock")
    }

    @Test func everyOptionIsRead() throws {
        let config = try parse("""
            # comment
            [DEFAULT]
            state_dir = /srv/volumed
            socket_path = /run/v.sock
            workers = 8
            log_level = debug
            admin_groups = volumed, storage
            [rbd]
            rbd_pool = fast
            rbd_user = cinder
            rbd_ceph_conf = \(cephConf)
            rbd_keyring = \(cephConf)
            rbd_secret_uuid = 457EB676-33DA-42EC-9A8C-9293D545C337
            rbd_max_clone_depth = 0
            rbd_flatten_volume_from_snapshot = true
            rbd_store_chunk_size = 8
            rados_connect_timeout = 10
            rados_connection_retries = 5
            rados_connection_interval = 2
            rbd_concurrent_flatten_operations = 0
            [images]
            rbd_store_pool = glance
            rbd_store_chunk_size = 16
            """)
        #expect(config.stateDir == "/srv/volumed")
        #expect(config.databasePath == "/srv/volumed/volumed.sqlite")
        #expect(config.workers == 8)
        #expect(config.logLevel == .debug)
        #expect(config.adminGroups == ["volumed", "storage"])
        #expect(config.rbdUser == "cinder")
        #expect(config.rbdSecretUUID == "457eb676-33da-42ec-9a8c-9293d545c337")
        #expect(config.engine.maxCloneDepth == 0)
        #expect(config.engine.imageOrder == 23)
        #expect(config.engine.concurrentFlattens == 0)
        #expect(config.imagesPool == "glance")
        #expect(config.imagesChunkSize == 16)
    }

    @Test func unknownOptionNamesFileLineAndOption() {
        #expect(throws: ConfigError(file: "/etc/volumed/volumed.conf", line: 3, option: "rbd_poool", message: "unknown option in [rbd]")) {
            try parse("[rbd]\nrbd_ceph_conf = \(cephConf)\nrbd_poool = x\n")
        }
    }

    @Test(arguments: [
        ("workers = many", "DEFAULT", "'many' is not a whole number"),
        ("workers = 0", "DEFAULT", "0 is out of range 1…256"),
        ("rbd_flatten_volume_from_snapshot = maybe", "rbd", "'maybe' is not true or false"),
        ("rbd_store_chunk_size = 3", "rbd", "3 MiB is not a power of two"),
        ("rbd_user = client.cinder", "rbd", "give the cephx id without 'client.' (e.g. 'cinder')"),
        ("rbd_keyring = /nonexistent/keyring", "rbd", "/nonexistent/keyring does not exist or is not readable"),
        ("log_level = loud", "DEFAULT", "'loud' is not one of trace, debug, info, notice, warning, error, critical"),
    ])
    func badValuesAreRefusedWithTheirLine(line: String, section: String, message: String) throws {
        let text = "[rbd]\nrbd_ceph_conf = \(cephConf)\n[\(section)]\n\(line)\n"
        do {
            _ = try parse(text)
            Issue.record("expected an error for '\(line)'")
        } catch {
            #expect(error.line == 4)
            #expect(error.option == String(line.prefix { $0 != " " }))
            #expect(error.message == message)
            #expect(error.description.hasPrefix("/etc/volumed/volumed.conf:4: "))
        }
    }

    @Test func missingCephConfIsAnError() {
        #expect(throws: ConfigError.self) { try parse("[rbd]\nrbd_ceph_conf = /nonexistent/ceph.conf\n") }
    }

    @Test func unknownSectionAndMalformedLines() {
        #expect(throws: ConfigError.self) { try parse("[nova]\nx = 1\n") }
        #expect(throws: ConfigError(file: "/etc/volumed/volumed.conf", line: 3, option: nil,
                                    message: "unknown section [bogus] (known: [DEFAULT], [rbd], [images], [libvirt], [backup])")) {
            try parse("[rbd]\nrbd_ceph_conf = \(cephConf)\n[bogus]\n")
        }
        #expect(throws: ConfigError.self) { try parse("[rbd]\nrbd_pool\n") }
        #expect(throws: ConfigError.self) { try parse("[rbd\n") }
        #expect(throws: ConfigError.self) { try parse("[rbd]\nrbd_ceph_conf = \(cephConf)\nrbd_pool = a\nrbd_pool = b\n") }
    }

    @Test func unreadableFileNamesThePath() {
        do {
            _ = try Configuration.load(path: "/nonexistent/volumed.conf")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("/nonexistent/volumed.conf: cannot read"))
        }
    }
}
