import ArgumentParser
import BrokerCore
import Foundation
import Gateway
import TsuruFrontEnd

/// `polybroker tsuru-manifest <offering>`: the manifest `tsuru service-create` reads.
struct TsuruManifest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tsuru-manifest",
        abstract: "Print the tsuru service manifest of an offering (for `tsuru service-create manifest.yaml`).")

    @Argument(help: "The offering, as named in the catalog.")
    var offering: String

    @Option(name: .long, help: "The endpoint tsuru calls (default: http://<listen address>/tsuru/<offering>).")
    var endpoint: String?

    @Option(name: .long, help: "The tsuru team responsible for the service.")
    var team: String?

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        guard configuration.catalog.offerings.contains(where: { $0.name == offering }) else {
            throw ValidationError("no offering named '\(offering)' (the catalog has: \(configuration.catalog.offerings.map(\.name).joined(separator: ", ")))")
        }
        guard offering.count <= 40, offering.wholeMatch(of: /[a-z][a-z0-9-]*/) != nil else {
            throw ValidationError("tsuru cannot register '\(offering)': a service id is at most 40 lower-case letters, digits and dashes, starting with a letter")
        }
        let secrets = try ResolvedSecrets.resolve(for: configuration)
        let prefix = configuration.prefix(of: "tsuru")
        let url = endpoint ?? "http://\(configuration.host):\(configuration.port)\(prefix)/\(offering)"
        print(TsuruFrontEnd.manifest(service: offering, password: secrets.password, endpoint: url, team: team))
    }
}
