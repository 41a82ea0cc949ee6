import Glibc
import PostgresClient

/// Makes every libpq connection of a process do real Kerberos (GSSAPI) and
/// TLS work, as on a site whose libpq is built with both (Debian's is):
/// `gssencmode=prefer` with a file credential cache asks Kerberos for
/// credentials on each connect, and `sslmode=prefer` against a server with
/// TLS on runs a handshake.
///
/// The Kerberos configuration has hundreds of realms, so that each
/// connect spends long enough inside libkrb5 (it parses the file again for
/// every credential lookup) for a stop or a kill to land there rather than
/// in a wait on the socket: the moment at which a process that is not
/// fork- and exit-safe breaks.
public struct LibpqSecurityLoad {
    public let directory: TemporaryDirectory
    public let kerberosConfiguration: String
    public let credentialCache: String

    public init(realms: Int = 500) throws {
        directory = try TemporaryDirectory(prefix: "powa-krb5")
        var text = "[libdefaults]\n default_realm = EXAMPLE.TEST\n[realms]\n"
        for index in 0..<realms {
            text +=
                " R\(index).EXAMPLE.TEST = {\n  kdc = kdc\(index).example.test\n  admin_server = kdc\(index).example.test\n }\n"
        }
        kerberosConfiguration = try directory.write("krb5.conf", text)
        credentialCache = try directory.write("ccache", "")
    }

    /// libpq and Kerberos environment variables for the processes under
    /// test (`NAME=value` items).
    public var environment: [String] {
        [
            "KRB5_CONFIG=\(kerberosConfiguration)", "KRB5CCNAME=FILE:\(credentialCache)",
            "PGGSSENCMODE=prefer", "PGSSLMODE=prefer",
        ]
    }

    public func remove() { directory.remove() }

    /// Turns TLS on in `cluster` with a new self-signed certificate (owned
    /// by the postgres user, which the server requires of its key), and
    /// returns whether a connection then negotiates TLS.
    public func enableTLS(on cluster: TestCluster) async throws -> Bool {
        let key = directory.path + "/server.key"
        let certificate = directory.path + "/server.crt"
        let result = try await TestProcess.run(
            "/usr/bin/openssl",
            [
                "req", "-new", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-newkey", "rsa:2048", "-keyout", key, "-out", certificate,
            ],
            in: directory, name: "openssl")
        guard case .exited(0)? = result.termination else {
            throw TestProcessError("openssl req failed: \(result.stderr)")
        }
        guard let postgres = getpwnam("postgres") else { throw TestProcessError("no postgres user") }
        for file in [key, certificate] {
            guard chown(file, postgres.pointee.pw_uid, postgres.pointee.pw_gid) == 0 else {
                throw TestProcessError("chown \(file): errno \(errno)")
            }
        }
        chmod(key, 0o600)
        chmod(directory.path, 0o755)
        let admin = try cluster.connect()
        defer { admin.close() }
        for (name, value) in [("ssl_cert_file", certificate), ("ssl_key_file", key), ("ssl", "on")] {
            try admin.execute("ALTER SYSTEM SET \(name) = '\(value)'")
        }
        try admin.execute("SELECT pg_reload_conf()")
        return await eventually(timeout: 10, interval: 0.2) {
            guard let probe = try? cluster.connect() else { return false }
            defer { probe.close() }
            let row = try? probe.execute("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            return row?.first?[0] == "true"
        }
    }
}
