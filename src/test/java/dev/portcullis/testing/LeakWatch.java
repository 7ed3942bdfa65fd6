package dev.portcullis.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Registered for every test class (junit-platform.properties turns on autodetection): after each class, makes
 * the leak detector look (GC, then new tracked buffers) and fails if Netty reported any leaked buffer.
 * Surefire runs the tests with -Dio.netty.leakDetection.level=paranoid.
 */
public final class LeakWatch implements AfterAllCallback {
    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            ByteBuf a = PooledByteBufAllocator.DEFAULT.buffer(16);
            a.release();
            ByteBuf b = UnpooledByteBufAllocator.DEFAULT.directBuffer(16);
            b.release();
        }
        if (!LeakAppender.LEAKS.isEmpty()) {
            String report = String.join("\n\n", LeakAppender.LEAKS);
            LeakAppender.LEAKS.clear();
            throw new AssertionError("Netty reported leaked buffers after " + context.getDisplayName() + ":\n" + report);
        }
    }
}
