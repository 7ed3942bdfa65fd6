package dev.portcullis.config;

/** Key {@code transport}: which Netty transport the event loops use. */
public enum TransportKind { AUTO, EPOLL, NIO }
