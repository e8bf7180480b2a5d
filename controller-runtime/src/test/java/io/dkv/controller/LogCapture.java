package io.dkv.controller;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Records what one logger logs (at DEBUG and above) while open; restores the logger's level on close. */
final class LogCapture implements AutoCloseable {
  private final Logger logger;
  private final Level before;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  LogCapture(Class<?> loggerOf) {
    logger = (Logger) LoggerFactory.getLogger(loggerOf);
    before = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    appender.start();
    logger.addAppender(appender);
  }

  /** The formatted messages logged at exactly {@code level}, in order. */
  List<String> at(Level level) {
    synchronized (appender.list) {
      return appender.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage)
          .toList();
    }
  }

  /** The formatted messages logged at INFO or above (what an operator sees), in order. */
  List<String> operatorLines() {
    synchronized (appender.list) {
      return appender.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO))
          .map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
    }
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    logger.setLevel(before);
  }
}
