import ArgumentParser
import BrokerCore
import Foundation
import Gateway
import Hummingbird
import Logging

/// The `polybroker` command.
@main
struct Polybroker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "polybroker",
        abstract: "One service-broker gateway for Cloud Foundry/OSB, tsuru, Apcera and service registries.",
        subcommands: [
            Serve.self, Config.self, TsuruManifest.self, Bench.self, ConformanceCommand.self, LedgerCommand.self, Instances.self,
            Bindings.self, Providers.self, Events.self, RenameInstance.self,
        ])
}

/// Options every command that reads the configuration shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file.")
    var config: String = "config/polybroker.yaml"

    @Option(name: .long, help: "The data directory (ledger, secrets, provider files).")
    var data: String?

    func load(host: String? = nil, port: Int? = nil) throws -> GatewayConfiguration {
        do {
            return try ConfigLoader.load(
                path: config, overrides: ConfigLoader.Overrides(host: host, port: port, dataDirectory: data))
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("polybroker: \(config) has \(error.problems.count) problem(s):\n".utf8))
            for problem in error.problems {
                FileHandle.standardError.write(Data("  \(problem)\n".utf8))
            }
            throw ExitCode(1)
        }
    }
}

/// `polybroker serve`.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the broker gateway.")

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Listen address (default from the configuration: 127.0.0.1).")
    var host: String?

    @Option(name: .long, help: "Listen port (default from the configuration: 8080).")
    var port: Int?

    func run() async throws {
        let configuration = try options.load(host: host, port: port)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = configuration.logLevel
            return handler
        }
        let logger = Logger(label: "polybroker")
        let gateway: Gateway
        do {
            gateway = try await Gateway.build(configuration: configuration, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("polybroker: cannot start: \(error)\n".utf8))
            throw ExitCode(1)
        }
        for file in gateway.secrets.generatedFiles {
            logger.notice("serve.secret.generated", metadata: ["file": "\(file)", "mode": "0600"])
        }
        logger.notice(
            "serve.credentials",
            metadata: [
                "username": "\(configuration.username)",
                "password": "\(configuration.password == nil ? "in \(configuration.dataDirectory.appendingPathComponent("secrets/password").path)" : "from configuration")",
                "registry-tenants": "\(gateway.secrets.registryTokens.map(\.tenant).joined(separator: ","))",
            ])
        let application = gateway.makeApplication { port in
            logger.notice("serve.listening", metadata: ["address": "http://\(configuration.host):\(port)"])
        }
        try await application.runService()
    }
}

/// `polybroker config …`.
struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Work with the configuration file.", subcommands: [Check.self])

    /// `polybroker config check`.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the configuration file and print each problem with its key path; exit 1 on any.")

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration = try options.load()
            let plans = configuration.catalog.offerings.reduce(0) { $0 + $1.plans.count }
            print(
                "\(options.config): ok (\(configuration.catalog.offerings.count) offerings, \(plans) plans, \(configuration.providers.count) providers)"
            )
        }
    }
}
