# frozen_string_literal: true

require "logger"

module Oidc
  module Native
    # oidc_log_cb: (user_data, level, target, target_len, message, message_len)
    callback :oidc_log_cb, %i[pointer uint32 pointer size_t pointer size_t], :void
    attach_function :oidc_set_log_callback, %i[oidc_log_cb pointer uint32 err_out], :oidc_result
  end

  # liboidc's log levels (1 error, 2 warn, 3 info, 4 debug, 5 trace) as Logger severities;
  # trace has no Logger severity of its own and is logged as DEBUG.
  LOG_SEVERITIES = { 1 => ::Logger::ERROR, 2 => ::Logger::WARN, 3 => ::Logger::INFO,
                     4 => ::Logger::DEBUG, 5 => ::Logger::DEBUG }.freeze

  # The one C callback ever handed to liboidc (a constant: never collected while liboidc may
  # call it). It runs on whatever thread liboidc logs from (the ffi gem takes the GVL for it)
  # and forwards to the logger set at that moment; an exception raised by the logger is
  # dropped with the message (it cannot unwind through liboidc).
  LOG_CALLBACK = FFI::Function.new(:void, %i[pointer uint32 pointer size_t pointer size_t]) do |_ud, level, tptr, tlen, mptr, mlen|
    logger = Oidc.logger
    if logger
      target = tptr.null? ? "oidc" : tptr.read_bytes(tlen).force_encoding(Encoding::UTF_8)
      message = mptr.null? ? "" : mptr.read_bytes(mlen).force_encoding(Encoding::UTF_8)
      logger.add(LOG_SEVERITIES.fetch(level, ::Logger::DEBUG), message, target)
    end
  rescue Exception # rubocop:disable Lint/RescueException
    nil
  end
  private_constant :LOG_CALLBACK

  LOG_MUTEX = Mutex.new
  private_constant :LOG_MUTEX

  class << self
    # The Logger receiving liboidc's messages (nil: none, the default).
    attr_reader :logger

    # Send liboidc's log messages to `logger` (a ::Logger or anything with #add(severity,
    # message, progname) and #level), process-wide; nil stops them. Messages are about key and
    # discovery fetches, refresh failures, cooldown suppressions, stale keys served, snapshots
    # and the worker pool, English text without tokens, secrets or keys; the progname is the
    # component ("oidc::cache", "oidc::discovery", "oidc::pool", "oidc::snapshot", ...).
    #
    # liboidc formats only the messages at or above the logger's level when it is set
    # (DEBUG: debug and more; `trace: true` adds liboidc's trace messages, logged as DEBUG);
    # after changing the logger's level, assign it again.
    #
    # The logger is called from liboidc's threads too: it must be thread safe (::Logger is)
    # and must not block for long.
    def logger=(logger)
      set_logger(logger)
    end

    # As #logger=, with liboidc's trace level (below DEBUG) when `trace` is true.
    def set_logger(logger, trace: false)
      LOG_MUTEX.synchronize do
        if logger.nil?
          FFISupport.check { |e| Native.oidc_set_log_callback(nil, nil, 0, e) }
          @logger = nil
        else
          max = log_max_level(logger, trace)
          @logger = logger
          FFISupport.check { |e| Native.oidc_set_log_callback(LOG_CALLBACK, nil, max, e) }
        end
      end
      logger
    end

    private

    def log_max_level(logger, trace)
      level = logger.respond_to?(:level) ? logger.level : ::Logger::DEBUG
      return 5 if trace && level <= ::Logger::DEBUG

      case level
      when ::Logger::DEBUG then 4
      when ::Logger::INFO then 3
      when ::Logger::WARN then 2
      else 1
      end
    end
  end
end
