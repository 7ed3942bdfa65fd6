package dev.portcullis.cache.store.disk;

import dev.portcullis.cache.store.Body;
import dev.portcullis.cache.store.CacheKey;
import dev.portcullis.cache.store.ResponseMeta;
import dev.portcullis.cache.store.StoredResponse;
import dev.portcullis.cache.store.disk.DiskFormat.Header;
import dev.portcullis.cache.store.disk.DiskIndex.Entry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The files of a disk tier's directory: {@code DIR/ab/abcdef...} (the name is the SHA-256 of the key, the
 * subdirectory its first two hex digits, so no directory holds more than 1/256 of the objects). Writes go to
 * {@code NAME.tmp} in the same directory, are forced to the device and renamed over the final name in one atomic
 * step: a reader, or the next start after a crash, sees the old file, the new one, or none, never half of one.
 * Stateless; the tier calls these on its own threads.
 */
final class DiskFiles {
    static final String TEMP_SUFFIX = ".tmp";
    /** How much of a body is read at a time. */
    private static final int READ_CHUNK = 64 * 1024;

    private DiskFiles() {
    }

    /** The file name of a key: hex SHA-256 of the primary key's length, the primary key and the variant key. */
    static String name(CacheKey key) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        byte[] primary = key.primary().getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(4).putInt(primary.length).array());
        sha.update(primary);
        sha.update(key.variant().getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(sha.digest());
    }

    static Path path(Path dir, String name) {
        return dir.resolve(name.substring(0, 2)).resolve(name);
    }

    static boolean isObjectName(String s) {
        if (s.length() != 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    static boolean isFanOutName(String s) {
        return s.length() == 2 && isObjectName(s.repeat(32));
    }

    /** Creates the 256 subdirectories that are missing. */
    static void createFanOut(Path dir) throws IOException {
        for (int i = 0; i < 256; i++) {
            Files.createDirectories(dir.resolve(String.format("%02x", i)));
        }
    }

    /**
     * Writes a stored response as one file (temp file, force, atomic rename over the old one) and returns its
     * entry. The caller holds a reference on {@code s} throughout.
     *
     * @throws IOException the write failed; no file of the key changed (a temp file may be left: it is deleted
     *                     at the next start, or overwritten by the next write of the key)
     */
    static Entry write(Path dir, StoredResponse s, long now) throws IOException {
        ResponseMeta meta = s.meta();
        String name = name(s.key());
        Path target = path(dir, name);
        Path temp = target.resolveSibling(name + TEMP_SUFFIX);
        byte[] encoded = DiskFormat.encodeMeta(meta);
        if (encoded.length > DiskFormat.MAX_META) {
            throw new IOException("the object's head and keys take " + encoded.length + " bytes, more than "
                    + DiskFormat.MAX_META);
        }
        long bodyLength = s.bodyLength();
        CRC32C crc = new CRC32C();
        try (FileChannel ch = createTemp(temp)) {
            ByteBuffer header = DiskFormat.header(encoded, bodyLength);
            crc.update(header.duplicate());
            writeFully(ch, header);
            crc.update(encoded);
            writeFully(ch, ByteBuffer.wrap(encoded));
            try {
                s.body().forEachChunk(chunk -> {
                    ByteBuffer nio = chunk.nioBuffer();
                    crc.update(nio.duplicate());
                    try {
                        writeFully(ch, nio);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            writeFully(ch, ByteBuffer.allocate(DiskFormat.TRAILER).putInt((int) crc.getValue()).flip());
            // on the device before the rename: after a power loss the name never points at unwritten blocks
            ch.force(true);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw e;
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw e;
        }
        long size = DiskFormat.HEADER + (long) encoded.length + bodyLength + DiskFormat.TRAILER;
        return new Entry(s.key(), size, bodyLength, meta.vary(), meta.tags(), now);
    }

    private static FileChannel createTemp(Path temp) throws IOException {
        try {
            return FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (NoSuchFileException e) {
            // its subdirectory was removed under us (a cleanup by hand): make it again rather than fail every write
            Files.createDirectories(temp.getParent());
            return FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** The head of a file, verified: what a scan indexes; its raw bytes, for the whole file's checksum. */
    record Head(ResponseMeta meta, Header header, ByteBuffer headerBytes, byte[] metaBytes) {}

    /** Reads and verifies a file's head (not its body). */
    static Head readHead(FileChannel ch, long fileSize) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(DiskFormat.HEADER);
        readFully(ch, header, 0);
        header.flip();
        Header h = DiskFormat.parseHeader(header, fileSize);
        byte[] meta = new byte[h.metaLength()];
        readFully(ch, ByteBuffer.wrap(meta), DiskFormat.HEADER);
        return new Head(DiskFormat.verifyAndDecodeMeta(header, h, meta), h, header, meta);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                throw new DamagedFileException("truncated while read");
            }
            pos += n;
        }
    }

    /**
     * Loads the object of {@code e}: the whole file is read and its checksum verified before the response is
     * returned; on any failure the body built so far is released and nothing is returned.
     *
     * @return a response carrying one reference for the caller, or null when its body is over {@code maxObjectSize}
     * @throws NoSuchFileException   the file is gone (evicted or purged meanwhile)
     * @throws DamagedFileException  the file cannot be trusted
     */
    static StoredResponse read(Path dir, Entry e, ByteBufAllocator alloc, long maxObjectSize) throws IOException {
        try (FileChannel ch = FileChannel.open(path(dir, e.name()), StandardOpenOption.READ)) {
            long fileSize = ch.size();
            Head head = readHead(ch, fileSize);
            if (!head.meta().primaryKey().equals(e.key.primary())
                    || !head.meta().variantKey().equals(e.key.variant())) {
                throw new DamagedFileException("holds another key (" + head.meta().primaryKey() + ")");
            }
            long bodyLength = head.header().bodyLength();
            if (bodyLength > maxObjectSize) {
                return null; // kept from a zone with a larger max_object_size: not for this one
            }
            CRC32C crc = new CRC32C();
            crc.update(head.headerBytes().array(), 0, DiskFormat.HEADER);
            crc.update(head.metaBytes());
            Body body = Body.open(alloc, bodyLength, maxObjectSize);
            ByteBuf buf = alloc.directBuffer((int) Math.min(READ_CHUNK, Math.max(1, bodyLength)));
            boolean ok = false;
            try {
                long pos = DiskFormat.HEADER + (long) head.header().metaLength();
                long end = pos + bodyLength;
                while (pos < end) {
                    buf.clear();
                    int want = (int) Math.min(buf.capacity(), end - pos);
                    int n = buf.writeBytes(ch, pos, want);
                    if (n < 0) {
                        throw new DamagedFileException("truncated while read");
                    }
                    pos += n;
                    crc.update(buf.nioBuffer());
                    if (!body.append(buf)) {
                        throw new IOException("no memory for the body (" + body.abortReason() + ")");
                    }
                }
                ByteBuffer trailer = ByteBuffer.allocate(DiskFormat.TRAILER);
                readFully(ch, trailer, end);
                if (trailer.flip().getInt() != (int) crc.getValue()) {
                    throw new DamagedFileException("body checksum mismatch");
                }
                body.seal();
                ok = true;
                return StoredResponse.of(head.meta(), body);
            } finally {
                buf.release();
                if (!ok) {
                    body.release(); // never handed out: nobody reads it
                }
            }
        }
    }

    /** What a scan of the directory found. */
    record Scan(List<Found> found, int damaged, int temps, int unreadable) {}

    /** A valid file and when it was last written. */
    record Found(Entry entry, long modifiedMillis) {}

    /**
     * Reads the head of every object file (not the bodies): valid ones are returned, damaged ones and leftover
     * temp files deleted. Files and directories the tier did not name are left alone.
     */
    static Scan scan(Path dir, org.slf4j.Logger log) throws IOException {
        List<Found> found = new ArrayList<>();
        int damaged = 0;
        int temps = 0;
        int unreadable = 0;
        try (DirectoryStream<Path> subdirs = Files.newDirectoryStream(dir)) {
            for (Path sub : subdirs) {
                if (!isFanOutName(sub.getFileName().toString()) || !Files.isDirectory(sub)) {
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(sub)) {
                    for (Path f : files) {
                        String name = f.getFileName().toString();
                        if (name.endsWith(TEMP_SUFFIX) && isObjectName(name.substring(0, name.length() - 4))) {
                            deleteQuietly(f); // a write that never finished (crash, kill -9, full disk)
                            temps++;
                        } else if (isObjectName(name)) {
                            try {
                                found.add(index(f, name));
                            } catch (DamagedFileException e) {
                                log.debug("disk cache file {} is damaged ({}): deleted", f, e.getMessage());
                                deleteQuietly(f);
                                damaged++;
                            } catch (NoSuchFileException e) {
                                // gone meanwhile
                            } catch (IOException e) {
                                log.warn("disk cache file {} cannot be read ({}): left as it is, not served", f,
                                        e.toString());
                                unreadable++;
                            }
                        }
                    }
                }
            }
        }
        return new Scan(found, damaged, temps, unreadable);
    }

    private static Found index(Path f, String name) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(f, BasicFileAttributes.class);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            Head head = readHead(ch, attrs.size());
            ResponseMeta m = head.meta();
            CacheKey key = new CacheKey(m.primaryKey(), m.variantKey());
            if (!name(key).equals(name)) {
                throw new DamagedFileException("its name is not its key's");
            }
            Entry e = new Entry(key, attrs.size(), head.header().bodyLength(), m.vary(), m.tags(), 0);
            return new Found(e, attrs.lastModifiedTime().toMillis());
        }
    }

    /** Deletes an object's file; false when it was not there. */
    static boolean delete(Path dir, String name) throws IOException {
        return Files.deleteIfExists(path(dir, name));
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover temp file is removed at the next start
        }
    }
}
