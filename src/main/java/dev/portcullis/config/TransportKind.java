package dev.portcullis.config;

/** Key {@code transport}: which Netty transport the event loops use (auto: epoll, else NIO). */
public enum TransportKind { AUTO, EPOLL, IO_URING, NIO }
