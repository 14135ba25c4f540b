# frozen_string_literal: true

require "json"

module Oidc
  module Rack
    # Rack middleware protecting an app with liboidc's request authentication: bearer tokens
    # (RFC 6750), DPoP-bound tokens with proofs (RFC 9449) and certificate-bound tokens
    # (RFC 8705). It is header plumbing only: it hands the request's Authorization and DPoP
    # headers, method, absolute URL and client certificate to Oidc::Client#authenticate and
    # writes back what liboidc decided. The rules (required scopes, claim values, DPoP mode,
    # nonces, mTLS) are the client's configuration:
    #
    #   API = Oidc::Client.new(issuer: "https://idp.example.com", audiences: "https://api.example.com",
    #                          realm: "api", required_scopes: %w[read])
    #   use Oidc::Rack::BearerAuth, client: API
    #
    # * allowed: env["oidc.claims"] (Oidc::Claims), env["oidc.token_type"] ("Bearer" or "DPoP")
    #   and env["oidc.decision"] are set and the app runs; a DPoP-Nonce liboidc wants sent is
    #   added to the app's response;
    # * denied: the decision's status (400, 401, 403, 503, 500), one WWW-Authenticate value per
    #   challenge liboidc gave (none for 5xx), DPoP-Nonce when given, and a small JSON body
    #   {"error": "invalid_token"} (the RFC 6750 / RFC 9449 error, or null); the app does not
    #   run; env["oidc.decision"] holds the Oidc::Decision (#code, #name, #message for logs).
    #
    # Header values as Rack gives them. Rack has one env entry per header name: a server that
    # receives the Authorization header twice folds the lines into one value joined by ", "
    # ("Bearer a, Bearer b"). liboidc reads that value as two credentials in one header and
    # answers 400 invalid_request, which is the right answer to two Authorization headers too
    # (RFC 6750 §2.1 allows one), so the folding changes nothing. Same for DPoP.
    #
    # Several WWW-Authenticate values: Rack 3 headers take an Array of values (one header line
    # each); Rack 2 (Debian's ruby-rack 2.2) takes one String with the values joined by "\n",
    # which the server writes as one line each. The middleware does whichever the loaded Rack
    # speaks.
    #
    # The URL: DPoP proofs name the URL the client addressed (htu), so it must be the public
    # one. By default it is Rack::Request#url (scheme, host and port as Rack sees them,
    # including X-Forwarded-* headers, which Rack 2 trusts from any client). Behind a proxy
    # you do not fully control, pin the public origin with `base_url: "https://api.example.com"`
    # (then only the path and query come from the request), or pass `url: ->(env) { ... }`.
    #
    # Client certificate (mTLS): env["SSL_CLIENT_CERT"] (the CGI name Apache/Passenger use;
    # change with `client_cert_key:`), PEM or an OpenSSL::X509::Certificate; none when absent or
    # empty.
    #
    # A request whose method or URL liboidc cannot use at all (e.g. a Host header that makes no
    # URL) raises nothing to the client: 400 with no challenge, the Oidc::Error in
    # env["oidc.error"]. Authentication releases the GVL, so threaded servers (Puma) keep
    # serving while keys load.
    class BearerAuth
      ENV_CLAIMS = "oidc.claims"
      ENV_TOKEN_TYPE = "oidc.token_type"
      ENV_DECISION = "oidc.decision"
      ENV_ERROR = "oidc.error"

      PEM_CERT = /-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----/m.freeze

      def initialize(app, client:, base_url: nil, url: nil, client_cert_key: "SSL_CLIENT_CERT", required_scopes: nil)
        unless required_scopes.nil?
          raise ArgumentError, "required_scopes: is the client's rule now (liboidc decides): " \
                               "Oidc::Client.new(..., required_scopes: #{Array(required_scopes).inspect})"
        end
        raise ArgumentError, "give base_url: or url:, not both" if base_url && url

        require "rack" unless defined?(::Rack.release)
        require "rack/request" unless defined?(::Rack::Request)
        @app = app
        @client = client
        @base_url = base_url&.to_s&.chomp("/")&.freeze
        @url = url
        @client_cert_key = client_cert_key
        @multi_value_headers = ::Rack.release.to_i >= 3
      end

      def call(env)
        decision = begin
          @client.authenticate(method: env["REQUEST_METHOD"], url: request_url(env),
                               authorization: env["HTTP_AUTHORIZATION"], dpop: env["HTTP_DPOP"],
                               client_cert: client_cert(env))
        rescue Oidc::InvalidArgument, Oidc::InvalidUtf8 => e
          env[ENV_ERROR] = e
          return respond(400, [], nil, nil)
        end
        env[ENV_DECISION] = decision
        return respond(decision.status, decision.challenges, decision.dpop_nonce, decision.error) unless decision.allowed?

        env[ENV_CLAIMS] = decision.claims
        env[ENV_TOKEN_TYPE] = decision.token_type
        status, headers, body = @app.call(env)
        headers["dpop-nonce"] = decision.dpop_nonce if decision.dpop_nonce
        [status, headers, body]
      end

      private

      def request_url(env)
        return @url.call(env) if @url

        req = ::Rack::Request.new(env)
        @base_url ? @base_url + req.fullpath : req.url
      end

      # The certificate as DER (PEM decoded), an object with #to_der, or nil.
      def client_cert(env)
        c = env[@client_cert_key]
        return c unless c.is_a?(String)
        return nil if c.strip.empty?

        pem = c[PEM_CERT, 1]
        pem ? pem.unpack1("m") : c
      end

      def respond(status, challenges, nonce, error)
        body = JSON.generate({ error: error })
        headers = { "content-type" => "application/json", "content-length" => body.bytesize.to_s,
                    "cache-control" => "no-store" }
        unless challenges.empty?
          headers["www-authenticate"] = @multi_value_headers ? challenges.dup : challenges.join("\n")
        end
        headers["dpop-nonce"] = nonce if nonce
        [status, headers, [body]]
      end
    end
  end
end
