# frozen_string_literal: true

require_relative "test_helper"
require "logger"
require "stringio"
require "socket"

# Oidc.logger = Logger.new(...): liboidc's log callback into a Ruby Logger.
class LoggerTest < Minitest::Test
  # An empty snapshot imports nothing, but liboidc logs the import (info, "oidc::snapshot") on
  # the calling thread: a deterministic message.
  EMPTY_SNAPSHOT = '{"version":1}'

  def teardown
    Oidc.logger = nil
  end

  def test_messages_reach_the_logger_with_severity_and_progname
    io = StringIO.new
    logger = Logger.new(io, level: Logger::DEBUG)
    logger.formatter = proc { |sev, _time, prog, msg| "#{sev}|#{prog}|#{msg}\n" }
    Oidc.logger = logger
    assert_same logger, Oidc.logger
    Oidc.cache_import(EMPTY_SNAPSHOT)
    assert_match(/^INFO\|oidc::snapshot\|snapshot imported: 0 entries/, io.string)
  end

  def test_the_logger_level_filters_in_liboidc
    io = StringIO.new
    Oidc.logger = Logger.new(io, level: Logger::WARN)
    Oidc.cache_import(EMPTY_SNAPSHOT)
    assert_equal "", io.string, "an info message reached a WARN logger"
  end

  def test_nil_stops_the_messages
    io = StringIO.new
    Oidc.logger = Logger.new(io)
    Oidc.logger = nil
    assert_nil Oidc.logger
    Oidc.cache_import(EMPTY_SNAPSHOT)
    assert_equal "", io.string
  end

  def test_a_failing_logger_loses_the_message_not_the_call
    broken = Object.new
    def broken.level = Logger::DEBUG
    def broken.add(*) = raise("logger broke")
    Oidc.logger = broken
    Oidc.cache_import(EMPTY_SNAPSHOT) # no exception crosses liboidc
  end

  def test_a_failed_key_fetch_is_logged_as_an_error_without_the_token
    server = TCPServer.new("127.0.0.1", 0) # accepts, answers garbage, closes: a failed fetch
    port = server.addr[1]
    thread = Thread.new do
      loop do
        c = server.accept
        c.readpartial(4096) rescue nil
        c.write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        c.close
      end
    rescue IOError, Errno::EBADF
      nil
    end
    io = StringIO.new
    logger = Logger.new(io, level: Logger::DEBUG)
    logger.formatter = proc { |sev, _time, prog, msg| "#{sev}|#{prog}|#{msg}\n" }
    Oidc.logger = logger
    client = Oidc::Client.new(issuer: "http://127.0.0.1:#{port}", audiences: ["api"],
                              jwks_uri: "http://127.0.0.1:#{port}/jwks?secret=s3cr3t",
                              allow_http_loopback: true)
    token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ4In0.c2ln"
    assert_raises(Oidc::Error) { client.validate(token) }
    assert_match(/^ERROR\|oidc::cache\|.*fetch/, io.string)
    refute_includes io.string, "s3cr3t"
    token.split(".").each { |seg| refute_includes io.string, seg }
  ensure
    client&.close
    server&.close
    thread&.join(1)
  end
end
