package graphsvc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.SettingValueParsers;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * Minimal Neo4j Community server for graphsvc tests and CI (no Docker, no tarball):
 * an embedded DBMS with the Bolt connector and authentication switched on.
 *
 * <p>Usage: {@code java [jvm opts] -cp CLASSPATH graphsvc.Launcher HOME_DIR PORT}
 *
 * <p>Environment:
 * <ul>
 *   <li>{@code GRAPHSVC_NEO4J_LAUNCHER_PASSWORD} (required): password set for user {@code neo4j}
 *       (kept out of argv so it does not show in {@code ps}).</li>
 *   <li>{@code GRAPHSVC_NEO4J_PAGECACHE} (optional, default {@code 1g}): page cache size.</li>
 * </ul>
 *
 * <p>Prints {@code graphsvc-neo4j: ready bolt://127.0.0.1:PORT} on stdout once Bolt accepts
 * authenticated connections; shuts down cleanly on SIGTERM/SIGINT.
 */
public final class Launcher {
    static final String READY_PREFIX = "graphsvc-neo4j: ready ";

    private Launcher() {}

    private static void log(String msg) {
        System.out.println("graphsvc-neo4j: " + msg);
        System.out.flush();
    }

    /** Did Neo4j refuse to set the password because it is the current one? */
    private static boolean samePassword(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (m != null && m.contains("Old password and new password cannot be the same")) {
                return true;
            }
        }
        return false;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: graphsvc.Launcher HOME_DIR PORT");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        String password = System.getenv("GRAPHSVC_NEO4J_LAUNCHER_PASSWORD");
        if (password == null || password.length() < 8) {
            System.err.println("graphsvc-neo4j: GRAPHSVC_NEO4J_LAUNCHER_PASSWORD must be set (>= 8 chars)");
            System.exit(2);
        }
        String pageCache = System.getenv().getOrDefault("GRAPHSVC_NEO4J_PAGECACHE", "1g");
        Files.createDirectories(home);

        long started = System.nanoTime();
        log("starting Neo4j in " + home + " (bolt 127.0.0.1:" + port + ", page cache " + pageCache
                + ", max heap " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB)");

        DatabaseManagementService dbms;
        try {
            dbms = new DatabaseManagementServiceBuilder(home)
                    .setUserLogProvider(new Log4jLogProvider(System.out, Level.INFO))
                    // Bolt on loopback only, plain text (tests connect with bolt://).
                    .setConfig(BoltConnector.enabled, true)
                    .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                    .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                    .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                    .setConfig(GraphDatabaseSettings.auth_enabled, true)
                    // Memory: fixed page cache; no limit on transaction memory (the project imports
                    // ~1.5M rows in a single transaction), heap bounds it (-Xmx).
                    .setConfig(GraphDatabaseSettings.pagecache_memory, SettingValueParsers.BYTES.parse(pageCache))
                    .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size, 0L)
                    .setConfig(GraphDatabaseSettings.memory_transaction_database_max_size, 0L)
                    .setConfig(GraphDatabaseSettings.memory_transaction_max_size, 0L)
                    .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ZERO)
                    // No phoning home (there is no network anyway).
                    .setConfig(GraphDatabaseSettings.udc_enabled, false)
                    .build();
        } catch (Throwable t) {
            System.err.println("graphsvc-neo4j: startup failed: " + t);
            t.printStackTrace();
            System.exit(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log("shutting down");
            try {
                dbms.shutdown();
            } catch (Throwable t) {
                System.err.println("graphsvc-neo4j: error during shutdown: " + t);
            }
            log("stopped");
            stopped.countDown();
        }, "graphsvc-neo4j-shutdown"));

        try {
            // The builder creates user neo4j with password "neo4j" (change required); set ours.
            // On data that ran before ('dev-neo4j restart') it may be ours already: Neo4j
            // refuses to set the same password again, which is fine.
            String quoted = password.replace("\\", "\\\\").replace("'", "\\'");
            try {
                dbms.database("system").executeTransactionally(
                        "ALTER USER neo4j SET PASSWORD '" + quoted + "' CHANGE NOT REQUIRED");
            } catch (Throwable t) {
                if (!samePassword(t)) {
                    throw t;
                }
                log("the password of user neo4j is already set");
            }
            dbms.database("neo4j").executeTransactionally("RETURN 1");
        } catch (Throwable t) {
            System.err.println("graphsvc-neo4j: startup failed: " + t);
            t.printStackTrace();
            System.exit(1);
        }

        long ms = (System.nanoTime() - started) / 1_000_000;
        System.out.println(READY_PREFIX + "bolt://127.0.0.1:" + port + " (" + ms + " ms)");
        System.out.flush();
        stopped.await(); // main thread idles; the JVM stays up for Bolt's non-daemon threads anyway
    }
}
