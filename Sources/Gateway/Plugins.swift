import BrokerCore
import PostgreSQLProvider
import RedisProvider
import RemoteHTTPProvider
import SQLiteProvider
import StaticProvider
import UpstreamOSBProvider

/// The provider plugin kinds this build installs.
public enum Plugins {
    /// Every installed factory, by kind.
    public static let installed = PluginKinds([
        SQLiteProvider.factory, StaticProvider.factory, PostgreSQLProvider.factory, RedisProvider.factory, RemoteHTTPProvider.factory, UpstreamOSBProvider.factory,
    ])
}
