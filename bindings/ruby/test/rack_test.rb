# frozen_string_literal: true

require_relative "test_helper"
require "rack"
require "rack/mock"
require "rack/lint"
require "jwt"
require "openssl"
require "digest"
require "base64"

# Oidc::Rack::BearerAuth: header plumbing over Oidc::Client#authenticate. Every decision here is
# liboidc's; these tests check that the middleware hands over the request as received and
# writes back exactly what was decided (status, each WWW-Authenticate value, DPoP-Nonce), and
# that the app sees the claims and the token type. tests/vectors/requests.json runs through the
# middleware too (test/rack_vectors.rb).
class RackTest < Minitest::Test
  include TestSupport

  APP = ->(env) { [200, { "content-type" => "text/plain" }, ["hello #{env['oidc.claims'].subject}"]] }
  URL = "http://example.org/resource" # what Rack::MockRequest addresses

  def setup
    @tk = Testkit.instance(self)
    @clients = []
    @client = client(realm: "api")
  end

  def teardown
    @clients.each(&:close)
  end

  def client(**opts)
    Oidc::Client.new(issuer: @tk.issuer, audiences: "api://ruby", ca_file: @tk.ca_file, **opts).tap { |c| @clients << c }
  end

  def request(token = nil, client: @client, header: nil, env: {}, method: "GET", at: URL, **mw_opts)
    app = ::Rack::Lint.new(Oidc::Rack::BearerAuth.new(::Rack::Lint.new(APP), client: client, **mw_opts))
    env = env.dup
    env["HTTP_AUTHORIZATION"] = header || "Bearer #{token}" if token || header
    ::Rack::MockRequest.new(app).request(method, at, env)
  end

  # the WWW-Authenticate lines of a response (Rack 2: one String joined by "\n"; Rack 3: Array)
  def challenges(res)
    v = res.headers["www-authenticate"]
    v.nil? ? [] : Array(v).flat_map { |s| s.split("\n") }
  end

  def direct(client, token, **kw)
    client.authenticate(method: "GET", url: URL, authorization: token && "Bearer #{token}", **kw)
  end

  def test_valid_token_reaches_the_app_with_claims_and_token_type
    seen = nil
    app = lambda do |env|
      seen = env.slice("oidc.claims", "oidc.token_type", "oidc.decision")
      [200, { "content-type" => "text/plain" }, ["ok"]]
    end
    mw = Oidc::Rack::BearerAuth.new(app, client: client(required_scopes: %w[read]))
    res = ::Rack::MockRequest.new(mw).get("/", "HTTP_AUTHORIZATION" => "Bearer #{@tk.token(scope: 'read write', sub: 'bob')}")
    assert_equal 200, res.status
    assert_kind_of Oidc::Claims, seen["oidc.claims"]
    assert_equal "bob", seen["oidc.claims"].subject
    assert_equal "Bearer", seen["oidc.token_type"]
    assert seen["oidc.decision"].allowed?
    assert_nil res.headers["www-authenticate"]
    assert_equal 200, request(@tk.token).status
    assert_equal "hello test-user", request(nil, header: "bearer   #{@tk.token}").body
  end

  def test_missing_token_is_401_with_bare_challenges
    res = request
    assert_equal 401, res.status
    d = direct(@client, nil)
    assert_equal "TOKEN_MISSING", d.name
    assert_equal d.challenges, challenges(res)
    assert_equal 'Bearer realm="api"', challenges(res).first
    assert_match(/\ADPoP realm="api", algs="[^"]+"\z/, challenges(res)[1])
    assert_nil JSON.parse(res.body)["error"]
    assert_equal "no-store", res.headers["cache-control"]
    assert_equal 401, request(nil, header: "Basic dXNlcjpwYXNz").status
    bearer_only = request(client: client(realm: "api", dpop_mode: :disabled))
    assert_equal ['Bearer realm="api"'], challenges(bearer_only)
  end

  def test_www_authenticate_shape_follows_the_loaded_rack
    res = request
    raw = res.original_headers["www-authenticate"]
    if Rack.release.to_i >= 3
      assert_kind_of Array, raw
    else
      assert_kind_of String, raw # Rack 2: values joined by "\n", one header line each
      assert_equal 2, raw.split("\n").size
    end
  end

  def test_rejected_token_gets_the_core_challenge
    expired = @tk.token(exp_in: -600)
    d = direct(@client, expired)
    assert_equal "TOKEN_EXPIRED", d.name
    res = request(expired)
    assert_equal 401, res.status
    assert_equal d.challenges, challenges(res)
    assert_match(/\ABearer realm="api", error="invalid_token"/, challenges(res).first)
    assert_equal "invalid_token", JSON.parse(res.body)["error"]
    assert_equal 401, request("garbage").status
  end

  def test_folded_authorization_headers_are_400
    # Rack folds two Authorization lines into one value: "two credentials", invalid_request
    res = request(nil, header: "Bearer #{@tk.token}, Bearer #{@tk.token(sub: 'mallory')}")
    assert_equal 400, res.status
    assert_equal "invalid_request", JSON.parse(res.body)["error"]
    assert_match(/error="invalid_request"/, challenges(res).first)
  end

  def test_insufficient_scope_is_403_from_the_client_rule
    c = client(realm: "api", required_scopes: %w[read admin])
    res = request(@tk.token(scope: "read"), client: c)
    assert_equal 403, res.status
    assert_match(/error="insufficient_scope"/, challenges(res).first)
    assert_match(/scope="admin"/, challenges(res).first)
    assert_equal 200, request(@tk.token(scope: "admin read"), client: c).status
    e = assert_raises(ArgumentError) { Oidc::Rack::BearerAuth.new(APP, client: c, required_scopes: %w[read]) }
    assert_match(/client's rule/, e.message)
  end

  def test_claim_values_are_the_client_rule
    c = client(claim_values: { "client_id" => %w[svc web] })
    assert_equal 200, request(@tk.token(claims: JSON.generate(client_id: "web")), client: c).status
    res = request(@tk.token(claims: JSON.generate(client_id: "other")), client: c)
    assert_equal 403, res.status
    assert_equal "CLAIM_NOT_ALLOWED", direct(c, @tk.token(claims: JSON.generate(client_id: "other"))).name
  end

  def test_key_outage_is_503_without_challenge
    down = client(ca_file: @tk.wrong_ca_file, jwks_uri: @tk.fresh_jwks_uri("rack503"))
    res = request(@tk.token, client: down)
    assert_equal 503, res.status
    assert_nil res.headers["www-authenticate"]
  end

  # --- DPoP (RFC 9449): header plumbing of the proof and of DPoP-Nonce ---

  def ec_key
    @ec_key ||= OpenSSL::PKey::EC.generate("prime256v1")
  end

  def jwk(key = ec_key)
    JWT::JWK.new(key).export.slice(:kty, :crv, :x, :y)
  end

  def jkt(key = ec_key)
    j = jwk(key)
    Base64.urlsafe_encode64(Digest::SHA256.digest(JSON.generate(crv: j[:crv], kty: j[:kty], x: j[:x], y: j[:y])),
                            padding: false)
  end

  def proof(token, htm: "GET", htu: URL, key: ec_key, nonce: nil)
    claims = { htm: htm, htu: htu, iat: Time.now.to_i, jti: SecureRandom.hex(12),
               ath: Base64.urlsafe_encode64(Digest::SHA256.digest(token), padding: false) }
    claims[:nonce] = nonce if nonce
    JWT.encode(claims, key, "ES256", { typ: "dpop+jwt", jwk: jwk(key) })
  end

  def dpop_token
    @tk.token(claims: JSON.generate(cnf: { jkt: jkt }))
  end

  def test_dpop_bound_token_with_a_fresh_proof
    t = dpop_token
    seen = nil
    app = lambda do |env|
      seen = env["oidc.token_type"]
      [200, { "content-type" => "text/plain" }, ["ok"]]
    end
    mw = ::Rack::Lint.new(Oidc::Rack::BearerAuth.new(app, client: @client))
    p1 = proof(t)
    res = ::Rack::MockRequest.new(mw).get(URL, "HTTP_AUTHORIZATION" => "DPoP #{t}", "HTTP_DPOP" => p1)
    assert_equal 200, res.status, res.body
    assert_equal "DPoP", seen
    # the same proof again: a replay
    res = request(env: { "HTTP_AUTHORIZATION" => "DPoP #{t}", "HTTP_DPOP" => p1 })
    assert_equal 401, res.status
    assert_equal "invalid_dpop_proof", JSON.parse(res.body)["error"]
    # a proof for another method, and the bound token sent as Bearer
    assert_equal 401, request(method: "POST", env: { "HTTP_AUTHORIZATION" => "DPoP #{t}", "HTTP_DPOP" => proof(t) }).status
    res = request(t)
    assert_equal 401, res.status
    assert_match(/error="invalid_token"/, challenges(res).first)
  end

  def test_dpop_nonce_header_round_trip
    c = client(realm: "api", dpop_nonce_secret: "n" * 32, dpop_nonce_lifetime: 300)
    t = dpop_token
    res = request(client: c, env: { "HTTP_AUTHORIZATION" => "DPoP #{t}", "HTTP_DPOP" => proof(t) })
    assert_equal 401, res.status
    assert_equal "use_dpop_nonce", JSON.parse(res.body)["error"]
    nonce = res.headers["dpop-nonce"]
    refute_nil nonce
    assert(challenges(res).any? { |ch| ch.start_with?("DPoP ") && ch.include?('error="use_dpop_nonce"') })
    res = request(client: c, env: { "HTTP_AUTHORIZATION" => "DPoP #{t}", "HTTP_DPOP" => proof(t, nonce: nonce) })
    assert_equal 200, res.status, res.body
  end

  def test_base_url_pins_the_public_origin_for_htu
    t = dpop_token
    pinned = "https://api.example.com"
    env = { "HTTP_AUTHORIZATION" => "DPoP #{t}", "HTTP_DPOP" => proof(t, htu: "#{pinned}/resource") }
    assert_equal 200, request(env: env, base_url: pinned).status
    # without the pin the URL is Rack's (http://example.org/resource): the proof does not fit
    env = { "HTTP_AUTHORIZATION" => "DPoP #{t}", "HTTP_DPOP" => proof(t, htu: "#{pinned}/resource") }
    assert_equal 401, request(env: env).status
    seen_url = nil
    env = { "HTTP_AUTHORIZATION" => "DPoP #{t}", "HTTP_DPOP" => proof(t, htu: "https://x.test/r") }
    assert_equal 200, request(env: env, url: lambda { |e|
      seen_url = e["PATH_INFO"]
      "https://x.test/r"
    }).status
    assert_equal "/resource", seen_url
  end

  # --- mTLS-bound tokens (RFC 8705): the certificate from env["SSL_CLIENT_CERT"] (PEM) ---

  def cert(cn)
    key = OpenSSL::PKey::EC.generate("prime256v1")
    c = OpenSSL::X509::Certificate.new
    c.version = 2
    c.serial = SecureRandom.random_number(2**64)
    c.subject = c.issuer = OpenSSL::X509::Name.parse("/CN=#{cn}")
    c.public_key = key
    c.not_before = Time.now - 60
    c.not_after = Time.now + 3600
    c.sign(key, OpenSSL::Digest.new("SHA256"))
    c
  end

  def test_certificate_bound_token
    mine = cert("client")
    x5t = Base64.urlsafe_encode64(Digest::SHA256.digest(mine.to_der), padding: false)
    t = @tk.token(claims: JSON.generate(cnf: { "x5t#S256" => x5t }))
    assert_equal 200, request(t, env: { "SSL_CLIENT_CERT" => mine.to_pem }).status
    # another env key, holding an OpenSSL object (Rack::Lint allows non-Strings in dotted keys only)
    assert_equal 200, request(t, env: { "puma.peercert" => mine }, client_cert_key: "puma.peercert").status
    assert_equal 401, request(t, env: { "SSL_CLIENT_CERT" => mine.to_pem }, client_cert_key: "puma.peercert").status
    other = request(t, env: { "SSL_CLIENT_CERT" => cert("other").to_pem })
    assert_equal 401, other.status
    assert_equal "TOKEN_BINDING_MISMATCH", direct(@client, t, client_cert: cert("other")).name
    assert_equal 401, request(t).status # no certificate
    assert_equal 401, request(t, env: { "SSL_CLIENT_CERT" => "" }).status
    strict = client(require_mtls: true)
    assert_equal 401, request(@tk.token, client: strict, env: { "SSL_CLIENT_CERT" => mine.to_pem }).status
  end

  def test_a_request_without_a_usable_url_is_400
    res = request(@tk.token, url: ->(_) { "not a url" })
    assert_equal 400, res.status
    assert_nil res.headers["www-authenticate"]
  end
end
