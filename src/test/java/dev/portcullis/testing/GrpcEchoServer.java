package dev.portcullis.testing;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A real grpc-java server (h2c, Netty transport) with a service {@code test.Echo} whose messages are UTF-8
 * strings (no protobuf needed): {@code Unary} answers "echo:" + request, {@code Chat} echoes every message of a
 * bidirectional stream as it arrives, {@code Fail} answers NOT_FOUND with a description, {@code Slow} answers
 * after the number of milliseconds in the request. The headers of each call are kept in {@link #headers}.
 */
public final class GrpcEchoServer implements AutoCloseable {
    public static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    public static final MethodDescriptor<String, String> UNARY = method("Unary", MethodDescriptor.MethodType.UNARY);
    public static final MethodDescriptor<String, String> CHAT = method("Chat", MethodDescriptor.MethodType.BIDI_STREAMING);
    public static final MethodDescriptor<String, String> FAIL = method("Fail", MethodDescriptor.MethodType.UNARY);
    public static final MethodDescriptor<String, String> SLOW = method("Slow", MethodDescriptor.MethodType.UNARY);

    public final BlockingQueue<Metadata> headers = new LinkedBlockingQueue<>();
    private final Server server;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    private GrpcEchoServer() throws IOException {
        ServerServiceDefinition service = ServerServiceDefinition.builder("test.Echo")
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((String req, StreamObserver<String> out) -> {
                    out.onNext("echo:" + req);
                    out.onCompleted();
                }))
                .addMethod(CHAT, ServerCalls.asyncBidiStreamingCall(out -> new StreamObserver<String>() {
                    @Override
                    public void onNext(String m) {
                        out.onNext("echo:" + m);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                }))
                .addMethod(FAIL, ServerCalls.asyncUnaryCall((String req, StreamObserver<String> out) ->
                        out.onError(Status.NOT_FOUND.withDescription("no such thing: " + req).asRuntimeException())))
                .addMethod(SLOW, ServerCalls.asyncUnaryCall((String req, StreamObserver<String> out) ->
                        timer.schedule(() -> {
                            out.onNext("slept " + req);
                            out.onCompleted();
                        }, Long.parseLong(req), TimeUnit.MILLISECONDS)))
                .build();
        ServerInterceptor keepHeaders = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata h,
                                                               ServerCallHandler<Q, R> next) {
                headers.add(h);
                return next.startCall(call, h);
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(service, keepHeaders))
                .build()
                .start();
    }

    public static GrpcEchoServer start() throws IOException {
        return new GrpcEchoServer();
    }

    public String address() {
        return "127.0.0.1:" + server.getPort();
    }

    private static MethodDescriptor<String, String> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<String, String>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("test.Echo", name))
                .setRequestMarshaller(UTF8)
                .setResponseMarshaller(UTF8)
                .build();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        timer.shutdownNow();
    }
}
