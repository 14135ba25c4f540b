# frozen_string_literal: true

require_relative "test_helper"
require "jwt"
require "openssl"
require "base64"
require "uri"

# The issue-14 options and operations of the binding, offline (static key sets; the revocation
# list against the fixture is test/revocation_test.rb): decryption keys in every accepted
# form, encrypted access tokens, signed request objects verified back through verify_jws, the
# logout replay store behind liboidc's C callback, drop_keys, and what liboidc refuses at
# construction (its codes, never a key in a message).
class JoseTest < Minitest::Test
  include TestSupport

  ISS = "https://as.jose.test"
  AUD = "api://jose"
  LOGOUT = JSON.parse(File.read(File.join(TestSupport::ROOT, "tests", "vectors", "logout.json")))

  def self.material
    @material ||= begin
      sig = OpenSSL::PKey::EC.generate("prime256v1")
      enc = OpenSSL::PKey::RSA.generate(2048)
      rp = OpenSSL::PKey::RSA.generate(2048)
      { sig: sig, enc: enc, rp: rp,
        jwks: { keys: [JWT::JWK.new(sig, "as-es256").export.merge(alg: "ES256", use: "sig")] },
        rp_jwks: { keys: [JWT::JWK.new(rp.public_key, "rp-rs256").export.merge(alg: "RS256", use: "sig")] } }
    end
  end

  def m = self.class.material

  def keep(obj)
    (@closing ||= []) << obj
    obj
  end

  def teardown
    @closing&.each(&:close)
  end

  def b64(bytes) = Base64.urlsafe_encode64(bytes, padding: false)

  def access_token(jti: SecureRandom.hex(8))
    now = Time.now.to_i
    JWT.encode({ iss: ISS, aud: AUD, sub: "alice", iat: now, exp: now + 300, jti: jti }, m[:sig], "ES256",
               { kid: "as-es256", typ: "at+jwt" })
  end

  # A nested JWT (RFC 7516 + RFC 7519 §5.2): the signed token encrypted to `rsa` with
  # RSA-OAEP-256 and A256GCM, made here with OpenSSL (liboidc only decrypts).
  def encrypt(plaintext, rsa, kid: "as-enc", cty: "JWT")
    header = b64(JSON.generate({ alg: "RSA-OAEP-256", enc: "A256GCM", kid: kid, cty: cty }.compact))
    cek = OpenSSL::Random.random_bytes(32)
    ek = rsa.public_key.encrypt(cek, "rsa_padding_mode" => "oaep", "rsa_oaep_md" => "sha256",
                                     "rsa_mgf1_md" => "sha256")
    iv = OpenSSL::Random.random_bytes(12)
    c = OpenSSL::Cipher.new("aes-256-gcm").encrypt
    c.key = cek
    c.iv = iv
    c.auth_data = header
    ct = c.update(plaintext) + c.final
    [header, b64(ek), b64(iv), b64(ct), b64(c.auth_tag)].join(".")
  end

  # --- decryption keys and encrypted access tokens ---

  def test_encrypted_access_token_needs_the_opt_in
    jwe = encrypt(access_token, m[:enc])
    plain = keep(Oidc::Client.new(issuer: ISS, audiences: AUD, jwks_json: m[:jwks], decryption_keys: m[:enc].to_pem))
    refute_equal "alice", (plain.validate(jwe).subject rescue nil), "refused without accept_encrypted:"
    e = assert_raises(Oidc::TokenError) { plain.validate(jwe) }
    refute_includes e.message, "alice"
    on = keep(Oidc::Client.new(issuer: ISS, audiences: AUD, jwks_json: m[:jwks], accept_encrypted: true,
                               decryption_keys: [{ key: m[:enc].to_pem, kid: "as-enc" }],
                               decryption_algorithms: %w[RSA-OAEP-256 A256GCM]))
    assert_equal "alice", on.validate(jwe).subject
    assert_equal "alice", on.validate(access_token).subject, "signed tokens still pass"
    # another key: one code, one message
    other = encrypt(access_token, OpenSSL::PKey::RSA.generate(2048))
    e = assert_raises(Oidc::DecryptionFailed) { on.validate(other) }
    assert_equal "the token could not be decrypted", e.message
    # not in the allow-list
    only = keep(Oidc::Client.new(issuer: ISS, audiences: AUD, jwks_json: m[:jwks], accept_encrypted: true,
                                 decryption_keys: m[:enc].to_pem, decryption_algorithms: "RSA-OAEP A128GCM"))
    assert_raises(Oidc::AlgorithmNotAllowed) { only.validate(jwe) }
  end

  def test_every_key_form
    jwk = JWT::JWK.new(m[:enc], "as-enc").export(include_private: true)
    jwe = encrypt("hello", m[:enc], cty: nil)
    [m[:enc].to_pem, JSON.generate(jwk), jwk, { key: m[:enc].to_pem, kid: "as-enc" }, { "key" => jwk, "kid" => "as-enc" },
     [OpenSSL::PKey::RSA.generate(2048).to_pem, m[:enc].to_pem]].each_with_index do |keys, i|
      o = keep(Oidc::OAuthClient.new(issuer: ISS, client_id: "rp", jwks_json: m[:jwks], decryption_keys: keys))
      got = o.decrypt(jwe)
      assert_equal "hello", got.text, "form #{i}"
      assert_equal "RSA-OAEP-256", got.header["alg"]
      assert_equal "as-enc", got.kid
      refute_includes got.inspect, "hello"
    end
    # a kid the JWE does not name: that key only is tried
    o = keep(Oidc::OAuthClient.new(issuer: ISS, client_id: "rp", jwks_json: m[:jwks],
                                   decryption_keys: { key: m[:enc].to_pem, kid: "other" }))
    assert_raises(Oidc::DecryptionFailed) { o.decrypt(jwe) }
  end

  def test_bad_keys_and_options_are_refused_at_construction_without_the_key
    secret_pem = "-----BEGIN PRIVATE KEY-----\nTUlJQ2RnSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NBbUF3Z2dKY0FnRUFBb0dCQUxvbmd\n" \
                 "-----END PRIVATE KEY-----\n"
    e = assert_raises(Oidc::ConfigError) { Oidc::Client.new(issuer: ISS, audiences: AUD, decryption_keys: secret_pem) }
    refute_includes e.message, "TUlJQ2RnSUJB"
    refute_includes e.inspect, "TUlJQ2RnSUJB"
    jwk = { kty: "oct", k: "c2VjcmV0c2VjcmV0" }
    e = assert_raises(Oidc::ConfigError) do
      Oidc::OAuthClient.new(issuer: ISS, client_id: "rp", decryption_keys: jwk)
    end
    refute_includes e.message, "c2VjcmV0c2VjcmV0"
    assert_raises(Oidc::UnsupportedAlgorithm) do
      Oidc::Client.new(issuer: ISS, audiences: AUD, decryption_algorithms: "RSA-OAEP-256 NOPE")
    end
    %w[none RS256,HS256 RS257].each do |algs|
      assert_raises(Oidc::UnsupportedAlgorithm, algs) { Oidc::OAuthClient.new(issuer: ISS, client_id: "rp", algorithms: algs) }
    end
    keep(Oidc::OAuthClient.new(issuer: ISS, client_id: "rp", algorithms: %w[ES256 EdDSA]))
    assert_raises(Oidc::InvalidConfig, "accept_encrypted: without a key") do
      Oidc::Client.new(issuer: ISS, audiences: AUD, jwks_json: m[:jwks], accept_encrypted: true)
    end
    assert_raises(TypeError) { Oidc::Client.new(issuer: ISS, audiences: AUD, decryption_keys: [42]) }
    e = assert_raises(ArgumentError) do
      Oidc::Client.new(issuer: ISS, audiences: AUD, decryption_keys: { key: m[:enc].to_pem, kid: "k", id: 1 })
    end
    refute_includes e.message, "PRIVATE KEY"
    # the client never shows or keeps keys
    o = keep(Oidc::OAuthClient.new(issuer: ISS, client_id: "rp", jwks_json: m[:jwks], decryption_keys: m[:enc].to_pem))
    refute_includes o.inspect, "PRIVATE"
    assert_empty o.instance_variables.map { |v| o.instance_variable_get(v) }.grep(String).grep(/PRIVATE/)
  end

  # --- request objects (RFC 9101): signed by liboidc, verified back by liboidc ---

  def test_signed_request_object_verifies_with_the_clients_key
    rp = keep(Oidc::OAuthClient.new(issuer: ISS, client_id: "rp", private_key: m[:rp].to_pem, private_key_kid: "rp-rs256",
                                    jwks_json: m[:jwks], request_object: true,
                                    endpoints: { authorization_endpoint: "#{ISS}/authorize" }))
    req = rp.authorization_url(redirect_uri: "https://rp.example/cb", scope: %w[openid])
    q = URI.decode_www_form(URI(req.url).query).to_h
    assert q["request"], req.url
    as = keep(Oidc::OAuthClient.new(issuer: "https://rp.jose.test", client_id: "as", jwks_json: m[:rp_jwks]))
    got = as.verify_jws(q["request"])
    assert_equal "rp-rs256", got.kid
    claims = got.json
    assert_equal "rp", claims["client_id"]
    assert_equal "https://rp.example/cb", claims["redirect_uri"]
    assert_equal req.state, claims["state"]
    # liboidc checks the pair of encryption settings
    assert_raises(Oidc::InvalidArgument) do
      Oidc::OAuthClient.new(issuer: ISS, client_id: "rp", private_key: m[:rp].to_pem, request_object: { enc_alg: "RSA-OAEP-256" })
    end
    enc = keep(Oidc::OAuthClient.new(issuer: ISS, client_id: "rp", private_key: m[:rp].to_pem,
                                     request_object: { enc_alg: "RSA-OAEP-256", enc: "A256GCM" }))
    refute enc.closed?
    assert_raises(ArgumentError) { Oidc::OAuthClient.new(issuer: ISS, client_id: "rp", request_object: { alg: "x" }) }
    assert_raises(TypeError) { Oidc::OAuthClient.new(issuer: ISS, client_id: "rp", request_object: "yes") }
  end

  # --- back-channel logout: the shared replay store ---

  def logout_case(name)
    c = LOGOUT["cases"].find { |x| x["name"] == name } or raise "logout.json: no case #{name}"
    c["steps"].first["token"]
  end

  def rp(**kw)
    cfg = LOGOUT["client"]
    keep(Oidc::OAuthClient.new(issuer: cfg["issuer"], client_id: cfg["client_id"], jwks_json: cfg["jwks"], **kw))
  end

  def test_logout_replay_store
    token = logout_case("sub and sid, RS256")
    now = LOGOUT["now"]
    seen = []
    store = ->(key, ttl) { seen << [key, ttl] and true }
    c = rp(logout_replay_store: store)
    t = c.validate_logout_token(token, now: Time.at(now))
    assert_equal "alice", t.subject
    assert_equal "session-1", t.sid
    assert_match(/jti=/, t.inspect)
    assert_equal 1, seen.size
    key, ttl = seen.first
    assert key.start_with?("liboidc:logout:"), key
    assert_operator ttl, :>, 0
    # the client's own cache answers first (the store is not asked again)
    assert_raises(Oidc::TokenReplayed) { c.validate_logout_token(token, now: now) }
    assert_equal 1, seen.size
    # another process of the fleet: its store says "seen"
    e = assert_raises(Oidc::TokenReplayed) { rp(logout_replay_store: ->(_k, _t) { false }).validate_logout_token(token, now: now) }
    assert_equal 317, e.code
    # a store that cannot answer refuses, never accepts
    [->(_k, _t) { raise "down" }, ->(_k, _t) { nil }].each do |down|
      e = assert_raises(Oidc::ReplayStoreUnavailable) { rp(logout_replay_store: down).validate_logout_token(token, now: now) }
      assert_equal 503, e.http_status
    end
    assert_raises(ArgumentError) { rp(logout_replay_store: 42) }
  end

  def test_logout_token_through_the_request_object
    token = logout_case("sid only")
    resp = keep(rp.request(:validate_logout_token, logout_token: token, now_secs: LOGOUT["now"]).send)
    assert_equal "session-1", resp[:sid]
    assert_nil resp[:sub]
    assert_equal "v-sid", resp[:jti]
    assert_equal "session-1", resp.to_h["sid"]
  end

  # --- drop_keys and the revocation keywords (liboidc's checks) ---

  def test_drop_keys_and_revocation_options
    c = keep(Oidc::Client.new(issuer: ISS, audiences: AUD, jwks_json: m[:jwks]))
    assert_same c, c.drop_keys
    assert_same c, c.drop_keys(ISS)
    assert_raises(Oidc::InvalidArgument) { c.drop_keys("https://nope.example") }
    assert_equal "alice", c.validate(access_token).subject
    c.close
    assert_raises(Oidc::ClosedError) { c.drop_keys }

    base = { issuer: ISS, audiences: AUD } # a remote issuer (nothing is fetched at construction)
    assert_raises(ArgumentError) { Oidc::Client.new(**base, revocation: {}) }
    assert_raises(ArgumentError) { Oidc::Client.new(**base, revocation: { policy: :sometimes }) }
    assert_raises(ArgumentError) { Oidc::Client.new(**base, revocation: { policy: :fail_open, every: 1 }) }
    assert_raises(ArgumentError) { Oidc::Client.new(**base, revocation: { policy: :fail_open, grace: -1 }) }
    assert_raises(TypeError) { Oidc::Client.new(**base, revocation: :fail_closed) }
    assert_raises(Oidc::InvalidConfig) do
      Oidc::Client.new(**base, revocation: { policy: :fail_closed, min_interval: 600, max_interval: 60 })
    end
    assert_raises(Oidc::InsecureUrl) { Oidc::Client.new(**base, revocation: { policy: "fail_open", url: "http://x.example/rl" }) }
    ok = keep(Oidc::Client.new(**base, revocation: { policy: :fail_open, grace: 60, max_interval: 3600 }))
    refute ok.closed?
    assert_raises(Oidc::InvalidConfig, "a static key set has no revocation list") do
      Oidc::Client.new(**base, jwks_json: m[:jwks], revocation: { policy: :fail_closed })
    end
  end
end
