# frozen_string_literal: true

require "json"

module Oidc
  module Rack
    # Rack middleware protecting an app with bearer tokens validated by an Oidc::Client.
    #
    #   use Oidc::Rack::BearerAuth, client: client, required_scopes: %w[read]
    #
    # * valid token: env["oidc.claims"] = Oidc::Claims, then the app runs;
    # * missing token: 401, WWW-Authenticate: Bearer (plus realm), no error code (RFC 6750 §3.1);
    # * rejected token: the status liboidc chose (401 for a bad token, 503 when the keys could
    #   not be obtained, 500 otherwise) and, on 401, liboidc's WWW-Authenticate value;
    # * missing scopes: 403 with error="insufficient_scope" and the scopes needed.
    #
    # Validation releases the GVL, so threaded servers (Puma) keep serving while keys load.
    class BearerAuth
      ENV_CLAIMS = "oidc.claims"
      ENV_ERROR = "oidc.error"

      def initialize(app, client:, required_scopes: [])
        @app = app
        @client = client
        @required_scopes = Array(required_scopes).map(&:to_s).freeze
        @challenge = client.respond_to?(:realm) && client.realm ? "Bearer realm=#{quote(client.realm)}" : "Bearer"
      end

      def call(env)
        token = bearer_token(env["HTTP_AUTHORIZATION"])
        return deny(401, @challenge, "unauthorized", "a bearer token is required") unless token

        begin
          claims = @client.validate(token)
        rescue Oidc::Error => e
          env[ENV_ERROR] = e
          status = e.http_status
          status = 500 unless [401, 503, 500].include?(status)
          return deny(status, status == 401 ? e.www_authenticate : nil, e.oauth_error || "server_error", e.message)
        end

        missing = @required_scopes - claims.scopes
        unless missing.empty?
          need = @required_scopes.join(" ")
          challenge = "#{@challenge}, error=\"insufficient_scope\", " \
                      "error_description=\"The access token lacks a required scope\", scope=#{quote(need)}"
          return deny(403, challenge, "insufficient_scope", "required scope: #{need}")
        end

        env[ENV_CLAIMS] = claims
        @app.call(env)
      end

      private

      # "Bearer <token68>" (scheme case-insensitive, RFC 6750 §2.1); nil otherwise.
      def bearer_token(header)
        return nil unless header.is_a?(String)

        scheme, token = header.strip.split(/[ \t]+/, 2)
        return nil unless scheme && token && scheme.casecmp?("bearer")

        token = token.strip
        token.empty? || token.match?(/\s/) ? nil : token
      end

      def deny(status, challenge, error, description)
        body = JSON.generate({ error: error, error_description: description })
        headers = { "content-type" => "application/json", "content-length" => body.bytesize.to_s,
                    "cache-control" => "no-store" }
        headers["www-authenticate"] = challenge if challenge
        [status, headers, [body]]
      end

      def quote(s)
        "\"#{s.to_s.gsub(/[\\"]/) { |c| "\\#{c}" }}\""
      end
    end
  end
end
