package dev.portcullis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.portcullis.observe.ProxyMetrics;
import dev.portcullis.runtime.SnapshotCompiler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code caches.NAME.disk: { path, size }}: read from a real file, so a relative path has a directory to start from. */
class CacheDiskConfigTest {
    @TempDir
    Path tmp;

    private static final String ROUTES = """
            listeners:
              - name: web
                bind: 127.0.0.1:8080
                routes: [ { upstream: backend, cache: a } ]
            upstreams:
              backend: { endpoints: [127.0.0.1:9001] }
            """;

    private Path write(String caches) throws Exception {
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Path file = conf.resolve("p.yaml");
        Files.writeString(file, caches + ROUTES);
        return file;
    }

    private List<String> errors(String caches) throws Exception {
        Path file = write(caches);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));
        assertThat(e).as("expected the config to be refused").isNotNull();
        return e.errors().stream().map(ConfigError::toString).map(s -> s.replace(file.toString(), "p.yaml")
                .replace(tmp.toString(), "TMP")).toList();
    }

    @Test
    void aRelativePathIsTakenFromTheConfigFilesDirectoryAndCreatedLater() throws Exception {
        Path file = write("""
                caches:
                  a:
                    memory: 8MiB
                    disk: { path: cache/a, size: 1GiB }
                """);
        CacheZoneConfig a = ConfigLoader.load(file).caches().get("a");
        assertThat(a.disk().path()).isEqualTo(tmp.toRealPath().resolve("conf/cache/a"));
        assertThat(a.disk().sizeBytes()).isEqualTo(1L << 30);
        assertThat(a.disk().line()).isEqualTo(4);
        assertThat(Files.exists(a.disk().path())).isFalse(); // reading a config creates nothing: the zone does
        // where the section sits is not part of the zone's identity (a reload keeps the zone)
        assertThat(a.disk()).isEqualTo(new CacheZoneConfig.Disk(a.disk().path(), 1L << 30, 99));
    }

    @Test
    void validateChecksTheDirectoryWithoutOpeningIt() throws Exception {
        Path file = write("""
                caches:
                  a: { disk: { path: cache/a, size: 1GiB } }
                """);
        // what `portcullis validate` runs: no directory made, no lock taken (a running process may hold it)
        SnapshotCompiler.check(ConfigLoader.load(file), new ProxyMetrics());
        assertThat(Files.exists(tmp.resolve("conf/cache"))).isFalse();
    }

    @Test
    void missingKeysBadSizesAndUnknownKeys() throws Exception {
        assertThat(errors("""
                caches:
                  a: { disk: { size: 1GiB } }
                  b: { disk: { path: /tmp/x } }
                  c: { disk: { path: c, size: lots } }
                  d: { disk: { path: d, size: 1GiB, levels: 2 } }
                  e: { disk: /var/cache }
                """)).containsExactly(
                "p.yaml:2: caches.a.disk: missing required key 'path'",
                "p.yaml:3: caches.b.disk: missing required key 'size'",
                "p.yaml:4: caches.c.disk.size: invalid size 'lots'; expected bytes or a number with a unit: KiB, MiB, GiB "
                        + "(also k, KB, M, MB, G, GB, all powers of 1024), such as 512, 64KiB, 16MiB, 1GiB",
                "p.yaml:5: caches.d.disk.levels: unknown key 'levels'; expected one of: path, size",
                "p.yaml:6: caches.e.disk: expected a mapping, found a scalar '/var/cache'");
    }

    @Test
    void aDiskSmallerThanOneObjectIsRefused() throws Exception {
        assertThat(errors("""
                caches:
                  a: { memory: 64MiB, max_object_size: 32MiB, disk: { path: a, size: 16MiB } }
                """)).containsExactly("p.yaml:2: caches.a.disk.size: the disk tier (16777216 bytes) is smaller "
                + "than max_object_size (33554432 bytes); give it room for many objects");
    }

    @Test
    void thePathMustBeAWritableDirectoryOrCreatableAsOne() throws Exception {
        Files.writeString(tmp.resolve("plain"), "x");
        assertThat(errors("""
                caches:
                  a: { disk: { path: ../plain, size: 1GiB } }
                  b: { disk: { path: ../plain/sub, size: 1GiB } }
                  c: { disk: { path: "", size: 1GiB } }
                """)).containsExactly(
                "p.yaml:2: caches.a.disk.path: not a directory: TMP/plain",
                "p.yaml:3: caches.b.disk.path: cannot create the directory TMP/plain/sub: TMP/plain is not a directory",
                "p.yaml:4: caches.c.disk.path: expected a directory path, found an empty string");
    }

    @Test
    void twoZonesCannotShareADirectoryOrNestOneInAnother() throws Exception {
        assertThat(errors("""
                caches:
                  a: { disk: { path: cache, size: 1GiB } }
                  b: { disk: { path: ./cache/, size: 1GiB } }
                  c: { disk: { path: cache/c, size: 1GiB } }
                  d: { disk: { path: other, size: 1GiB } }
                """)).containsExactly(
                "p.yaml:3: caches.b.disk.path: the directory TMP/conf/cache is already the disk tier of cache zone "
                        + "'a'; each zone needs its own directory",
                "p.yaml:4: caches.c.disk.path: the directory TMP/conf/cache/c and the disk tier of cache zone 'a' "
                        + "(TMP/conf/cache) are inside one another; give each zone its own directory");
    }
}
