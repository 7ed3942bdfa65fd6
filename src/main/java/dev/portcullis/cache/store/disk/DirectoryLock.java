package dev.portcullis.cache.store.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code DIR/portcullis.lock}: an OS lock held while a process uses a disk tier directory, so two processes never
 * write one directory (each would delete the other's temp files and evict blindly). The OS drops it when the holder
 * dies, {@code kill -9} included; the file keeps the holder's pid for the error message of the next one.
 */
final class DirectoryLock implements AutoCloseable {
    static final String FILE = "portcullis.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** @throws IOException another process holds the directory (the message names its pid when known) */
    static DirectoryLock take(Path dir) throws IOException {
        FileChannel ch = FileChannel.open(dir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
            if (l != null) {
                ch.truncate(0);
                ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)),
                        0);
            }
        } catch (OverlappingFileLockException e) {
            l = null; // held in this JVM through another channel: in use all the same
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (l == null) {
            String holder = holder(ch);
            ch.close();
            throw new IOException("the directory " + dir + " is in use by another process" + holder
                    + "; give each Portcullis process its own disk path");
        }
        return new DirectoryLock(ch, l);
    }

    /** " (pid N)" from the file, read through the channel already open (closing another one could drop locks). */
    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            ch.read(b, 0);
            String pid = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
            return pid.isEmpty() ? "" : " (pid " + pid + ")";
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }

}
