# frozen_string_literal: true

require "json"
require_relative "codes"

module Oidc
  # Base of every error liboidc reports. The range classes group the codes:
  #
  #   Oidc::Error
  #     UsageError      1-99   API misuse (NullParameter, InvalidUtf8, ...; and ClosedError) and call
  #                            control (QueueFull 7, DeadlineExceeded 8, Cancelled 9)
  #     ConfigError     100s   configuration and discovery (InvalidConfig, CaFile, DiscoveryInvalid, ...)
  #     NetworkError    200s   network and HTTP (Network, Timeout, Tls, HttpStatus, ...)
  #     TokenError      300s   token validation (TokenExpired, SignatureInvalid, AudienceMismatch, ...)
  #       RequestError  320-339  request authentication (TokenMissing, RequestMalformed, DpopReplay,
  #                            ...): the codes of a denying Oidc::Decision (Client#authenticate
  #                            returns them, it does not raise them; Decision#error_class)
  #     OAuthError      400s   OAuth error responses (InvalidGrant, InvalidClient, ...); code 400
  #                            itself (an `error` liboidc has no name for) is OAuthError proper
  #     ProtocolError   500s   protocol checks on responses (StateMismatch, NonceMismatch, ...)
  #
  # Every code class has CODE and NAME constants equal to the C header's OIDC_RESULT_<NAME>.
  class Error < StandardError
    # The numeric oidc_result (nil for errors raised by the binding itself, e.g. ClosedError).
    attr_reader :code
    # The stable code name, e.g. "TOKEN_EXPIRED".
    attr_reader :name
    # The HTTP status a resource server should answer with: 401 (bad token), 503 (keys
    # unavailable), 500 (anything else).
    attr_reader :http_status
    # A ready WWW-Authenticate value for a 401 answer (RFC 6750).
    attr_reader :www_authenticate
    # The details object liboidc attached (Hash; for OAuth error responses it holds the
    # server's "error", "error_description", "error_uri" and HTTP "status").
    attr_reader :details

    def initialize(message = nil, code: nil, name: nil, http_status: nil, www_authenticate: nil,
                   oauth_error: nil, details: nil, server_error: nil)
      klass = self.class
      @code = code || (klass.const_defined?(:CODE) ? klass::CODE : nil)
      @name = name || (klass.const_defined?(:NAME) ? klass::NAME : nil)
      @http_status = http_status || 500
      @www_authenticate = www_authenticate || "Bearer"
      @oauth_error = oauth_error
      @details = (details || {}).freeze
      # The identity provider's [error, error_description, error_uri] when the failure is its answer.
      @server_error = server_error
      super(message || (@code ? Oidc.result_str(@code) : klass.name))
    end

    # The RFC 6750 error for a token the resource server rejected ("invalid_token"), or the
    # `error` member of an OAuth error response from the server ("invalid_grant", ...); nil
    # otherwise.
    def oauth_error
      @oauth_error || server_error_field(0, "error")
    end

    # The server's error_description of an OAuth error response, if any.
    def error_description
      server_error_field(1, "error_description")
    end

    # The server's error_uri of an OAuth error response, if any.
    def error_uri
      server_error_field(2, "error_uri")
    end

    private def server_error_field(i, name)
      @server_error ? @server_error[i] : @details[name]
    end

    # Raise-site independent description, never containing secrets or token contents (the
    # message comes from liboidc, which guarantees that).
    def inspect
      "#<#{self.class.name} #{@name || '-'}(#{@code || '-'}): #{message}>"
    end

    # Build the exception for a failed call and free the native error object.
    # `err` is the oidc_error* the call wrote (may be NULL).
    def self.from_native(rc, err)
      return for_code(rc).new(code: rc, name: Oidc.result_name(rc)) if err.nil? || err.null?

      begin
        code = Native.oidc_error_code(err)
        code = rc if code.zero?
        details_s = Oidc.cstr(Native.oidc_error_details_json(err))
        details = begin
          details_s.empty? ? {} : JSON.parse(details_s)
        rescue JSON::ParserError
          {}
        end
        oauth = Native.oidc_error_oauth_error(err)
        server = [Protocol::FIELDS[:error], Protocol::FIELDS[:error_description], Protocol::FIELDS[:error_uri]].map do |f|
          p = Native.oidc_error_server_error(err, f)
          p.null? ? nil : Oidc.cstr(p)
        end
        for_code(code).new(
          Oidc.cstr(Native.oidc_error_message(err)),
          code: code,
          name: details["name"] || Oidc.result_name(code),
          http_status: Native.oidc_error_http_status(err),
          www_authenticate: Oidc.cstr(Native.oidc_error_www_authenticate(err)),
          oauth_error: oauth.null? ? nil : Oidc.cstr(oauth),
          details: details,
          server_error: server[0] ? server : nil
        )
      ensure
        Native.oidc_error_free(err)
      end
    end

    # The class for a code: its own class, else the class of its range (a code added to a
    # newer liboidc still lands in the right group), else Oidc::Error.
    def self.for_code(code)
      CODES[code] || RANGES.find { |range, _| range.cover?(code) }&.last || Error
    end
  end

  class UsageError < Error; end
  class ConfigError < Error; end
  class NetworkError < Error; end
  class TokenError < Error; end
  class RequestError < TokenError; end
  class OAuthError < Error
    CODE = 400
    NAME = "OAUTH_ERROR"
  end
  class ProtocolError < Error; end

  # A method was called on a client after #close (raised by the binding, no liboidc code).
  class ClosedError < UsageError
    def initialize(message = "the client is closed", **kw)
      super(message, name: "CLOSED", **kw)
    end
  end

  # A method needs a liboidc function the loaded library does not export (an older library).
  class UnsupportedError < UsageError
    def initialize(message = "not supported by the loaded liboidc", **kw)
      super(message, name: "UNSUPPORTED", **kw)
    end
  end

  RANGES = [
    [1..99, UsageError], [100..199, ConfigError], [200..299, NetworkError],
    [320..339, RequestError], [300..399, TokenError], [400..499, OAuthError], [500..599, ProtocolError]
  ].freeze

  # RESULT_CODES (every oidc_result except OK, name => value) is generated into codes.rb from
  # codes.in by scripts/gen-codes.py; test/codes_test.rb parses the header and fails on any drift.

  # "TOKEN_EXPIRED" -> "TokenExpired"; "OAUTH_ERROR" -> "OAuthError".
  def self.class_name_for(code_name)
    code_name.split("_").map { |w| w == "OAUTH" ? "OAuth" : w.capitalize }.join
  end

  codes = {}
  RESULT_CODES.each do |code_name, value|
    cname = class_name_for(code_name)
    klass = if const_defined?(cname, false)
              const_get(cname, false) # OAuthError: the 400s range class is also code 400
            else
              parent = RANGES.find { |range, _| range.cover?(value) }.last
              Class.new(parent).tap do |k|
                k.const_set(:CODE, value)
                k.const_set(:NAME, code_name)
                const_set(cname, k)
              end
            end
    codes[value] = klass
  end
  CODES = codes.freeze
end
