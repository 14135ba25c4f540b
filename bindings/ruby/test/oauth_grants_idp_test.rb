# frozen_string_literal: true

require_relative "test_helper"
require "pp"
require "base64"
require "digest"

# The grants half of the protocol client against the real oidc-provider (tests/idp):
# authorization code + PKCE with a scripted login, refresh, device flow with a scripted
# approval, cached client credentials, token exchange, JWT bearer, custom grants, CIBA, DPoP.
class OAuthGrantsIdpTest < Minitest::Test
  include TestSupport

  CB = "http://127.0.0.1/cb"
  KEYS = File.join(TestSupport::ROOT, "tests", "idp", "client-keys")

  def setup
    @idp = Idp.instance(self)
    @closing = []
  end

  def teardown
    @closing.each(&:close)
  end

  def oauth(client_id, secret = nil, **opts)
    c = Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: client_id, client_secret: secret,
                              ca_file: @idp.ca_file, **opts)
    @closing << c
    c
  end

  def web(**opts) = oauth("web-app", "web-app-secret", **opts)
  def key(name) = File.read(File.join(KEYS, name))

  def validator(resource)
    v = Oidc::Client.new(issuer: @idp.issuer, audiences: resource, ca_file: @idp.ca_file)
    @closing << v
    v
  end

  # Authorization URL (liboidc makes state, nonce and the PKCE pair), scripted login + consent;
  # returns [authorization request, code].
  def login(client, scope: %w[openid email profile read], resources: nil)
    req = client.authorization_url(redirect_uri: CB, scope: scope, resources: resources)
    assert_includes req.url, "code_challenge=#{req.code_challenge}"
    resp = client.parse_authorization_response(@idp.browser.authorize(req.url), expected_state: req.state)
    [req, resp.code]
  end

  # PKCE, state and nonce come from the authorization-URL response (oidc_pkce_* are gone).
  def test_authorization_request_carries_pkce_state_and_nonce
    c = web
    a = c.authorization_url(redirect_uri: CB, scope: %w[openid])
    b = c.authorization_url(redirect_uri: CB, scope: %w[openid])
    assert_equal 43, a.code_verifier.size
    refute_equal a.code_verifier, b.code_verifier
    refute_equal a.state, b.state
    refute_nil a.nonce
    assert_equal Base64.urlsafe_encode64(Digest::SHA256.digest(a.code_verifier), padding: false), a.code_challenge
    assert_equal "S256", a.code_challenge_method
    assert_includes a.url, "state=#{a.state}"
    assert a.frozen?
    [a.inspect, a.pretty_inspect].each { |s| refute_includes s, a.code_verifier }
  end

  def test_authorization_code_pkce_and_refresh
    c = web
    # error case: a wrong verifier is refused (and oidc-provider consumes the code)
    pkce, code = login(c)
    e = assert_raises(Oidc::InvalidGrant) do
      c.exchange_code(code: code, redirect_uri: CB, code_verifier: "wrong-verifier-wrong-verifier-wrong-verifier-0",
                      nonce: pkce.nonce)
    end
    assert_equal "invalid_grant", e.oauth_error
    refute_includes e.message, code

    pkce, code = login(c, resources: ["urn:liboidc:es256"])
    t = c.exchange_code(code: code, redirect_uri: CB, code_verifier: pkce.code_verifier, nonce: pkce.nonce,
                        resources: ["urn:liboidc:es256"])
    assert_equal "Bearer", t.token_type
    refute_nil t.id_token
    refute_nil t.refresh_token
    id = c.validate_id_token(t.id_token, nonce: pkce.nonce)
    assert_equal "user-1", id.subject
    assert_equal "user-1@liboidc.test", id["email"]
    assert_equal "user-1", validator("urn:liboidc:es256").validate(t.access_token).subject
    [t.inspect, t.pretty_inspect].each do |s|
      [t.access_token, t.refresh_token, t.id_token].each { |secret| refute_includes s, secret }
    end

    # refresh: rotated; the old refresh token is then refused
    t2 = c.refresh(t, resources: ["urn:liboidc:es256"])
    refute_equal t.refresh_token, t2.refresh_token
    refute_nil t2.id_token
    assert_equal "user-1", validator("urn:liboidc:es256").validate(t2.access_token).subject
    e = assert_raises(Oidc::InvalidGrant) { c.refresh(t.refresh_token) }
    refute_includes e.message, t.refresh_token
    # no refresh token: liboidc refuses the request (a required parameter missing)
    assert_raises(Oidc::InvalidArgument) { c.refresh(Oidc::Token.new(access_token: "x", token_type: "Bearer")) }

    # the code is single use
    assert_raises(Oidc::InvalidGrant) do
      c.exchange_code(code: code, redirect_uri: CB, pkce: pkce)
    end
  end

  def test_public_client_with_pkce_shortcut
    native = oauth("native-app")
    pkce, code = login(native, scope: %w[openid])
    t = native.exchange_code(code: code, redirect_uri: CB, pkce: pkce)
    refute_nil t.id_token
    refute_nil t.refresh_token
    # a nonce that does not match the ID token's is refused by liboidc
    pkce, code = login(native, scope: %w[openid])
    assert_raises(Oidc::NonceMismatch) do
      native.exchange_code(code: code, redirect_uri: CB, code_verifier: pkce.code_verifier, nonce: "other-nonce")
    end
  end

  def test_device_flow_with_scripted_approval
    c = oauth("device-app")
    da = c.device_authorization(scope: "openid")
    assert_kind_of Oidc::DeviceAuthorization, da
    assert da.verification_uri.start_with?(@idp.issuer)
    refute_empty da.user_code
    assert_equal 5, da.interval
    assert_operator da.expires_in, :>, 0
    refute da.expired?
    assert_includes da.inspect, da.user_code

    # error case: still pending and a deadline shorter than the interval
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    assert_raises(Oidc::DeadlineExceeded) { c.poll_device(da, timeout: 0.2) }
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0, :<, 2

    @idp.browser.approve_device(da.user_code)
    t = c.poll_device(da, timeout: 30)
    refute_empty t.access_token
    refute_nil t.id_token, "validated ID token"
    # the device code is consumed
    assert_raises(Oidc::InvalidGrant) { c.poll_device(da, timeout: 1) }
    da.close
    assert_raises(Oidc::ClosedError) { c.poll_device(da, timeout: 1) }
    assert_raises(TypeError) { c.poll_device("device-code", timeout: 1) }
  end

  # Oidc::Cancel ends a poll's wait from another thread; the GVL is free meanwhile.
  def test_device_poll_cancelled
    c = oauth("device-app")
    da = c.device_authorization(scope: "openid")
    cancel = Oidc::Cancel.new
    mono = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
    t0 = mono.call
    poller = Thread.new do
      c.poll_device(da, timeout: 30, cancel: cancel)
    rescue Oidc::Error => e
      e
    end
    sleep 0.5 # Ruby runs while the poll waits inside liboidc
    cancel.trigger
    assert cancel.cancelled?
    assert_kind_of Oidc::Cancelled, poller.value
    assert_operator mono.call - t0, :<, 4, "cancel ended the 5 s wait"
    # once cancelled, it stays so
    assert_raises(Oidc::Cancelled) { c.poll_device(da, timeout: 30, cancel: cancel) }
    cancel.close
    da.close
  end

  def test_cached_client_credentials
    c = oauth("svc-basic", "svc-basic-secret")
    a = c.client_credentials(scope: "read", resources: ["urn:liboidc:rs256"], cached: true)
    b = c.client_credentials(scope: "read", resources: ["urn:liboidc:rs256"], cached: true)
    assert_equal a.access_token, b.access_token, "the same token twice"
    fresh = c.client_credentials(scope: "read", resources: ["urn:liboidc:rs256"])
    refute_equal a.access_token, fresh.access_token, "cached: false asks again"
    other = c.client_credentials(scope: %w[read write], resources: ["urn:liboidc:rs256"], cached: true)
    refute_equal a.access_token, other.access_token, "another scope set, another cache entry"
    # many threads, one token
    tokens = Array.new(6) do
      Thread.new { c.client_credentials(scope: "write", resources: ["urn:liboidc:es256"], cached: true).access_token }
    end.map(&:value)
    assert_equal 1, tokens.uniq.size

    # error case: errors are not cached and keep the server's code
    e = assert_raises(Oidc::InvalidTarget) { c.client_credentials(resources: ["urn:liboidc:nope"], cached: true) }
    assert_equal "invalid_target", e.oauth_error
    bad = oauth("svc-basic", "wrong-secret")
    assert_raises(Oidc::InvalidClient) { bad.client_credentials(scope: "read", cached: true) }
  end

  def test_token_exchange_jwt_bearer_custom_grant
    svc = oauth("svc-basic", "svc-basic-secret")
    pk = oauth("svc-pkjwt", private_key: key("ec.pem"), private_key_kid: "client-ec")
    assert_equal "private_key_jwt", pk.auth_method
    refute(pk.instance_variables.any? { |iv| pk.instance_variable_get(iv).to_s.include?("PRIVATE KEY") })
    subject = svc.client_credentials
    t = pk.token_exchange(subject.access_token, audience: "urn:x:downstream")
    assert_equal Oidc::OAuthClient::TOKEN_TYPE_ACCESS_TOKEN, t.issued_token_type
    assert_raises(Oidc::InvalidGrant) { pk.token_exchange("not-a-token") }

    t = pk.jwt_bearer(subject: "user-1", scope: "read")
    refute_empty t.access_token
    assert_raises(Oidc::InvalidArgument) { pk.jwt_bearer } # neither assertion nor subject
    e = assert_raises(Oidc::InvalidGrant) { pk.jwt_bearer(assertion: "not.a.jwt") }
    refute_includes e.message, "not.a.jwt"
    # client assertions signed by a key the IdP does not know
    foreign = oauth("svc-pkjwt", private_key: key("dpop-ec.pem"), private_key_kid: "client-ec")
    assert_raises(Oidc::InvalidClient) { foreign.jwt_bearer(subject: "user-1") }

    t = pk.custom_grant("urn:liboidc:grant-type:echo", color: "blue", size: "XL")
    assert_equal({ "color" => "blue", "size" => "XL" }, t["echo"])
    assert_raises(Oidc::InvalidRequest) { pk.custom_grant("urn:liboidc:grant-type:echo") }

    # private keys as JWK (Hash) and RSA PEM work too
    rsa = oauth("svc-pkjwt", private_key: key("rsa.pem"), private_key_kid: "client-rsa", private_key_alg: "PS256")
    refute_empty rsa.client_credentials.access_token
    jwk = oauth("svc-pkjwt", private_key: JSON.parse(key("ed25519.jwk.json")))
    refute_empty jwk.client_credentials.access_token
    # a bad key fails at construction, without echoing it
    e = assert_raises(Oidc::Error) { oauth("svc-pkjwt", private_key: "-----BEGIN PRIVATE KEY-----\nnope\n") }
    refute_includes e.message, "nope"
  end

  def test_ciba_poll_mode
    c = oauth("svc-pkjwt", private_key: key("rsa.pem"), private_key_kid: "client-rsa")
    req = c.ciba_request(scope: %w[openid email], login_hint: "user-1")
    assert_kind_of Oidc::CibaRequest, req
    refute_includes req.inspect, req.auth_req_id
    assert_raises(Oidc::DeadlineExceeded) { c.poll_ciba(req, timeout: 0.1) }
    r = @idp.admin_post("/ciba/approve?auth_req_id=#{URI.encode_www_form_component(req.auth_req_id)}")
    assert_equal true, r["ok"], r.inspect
    t = c.poll_ciba(req, timeout: 30)
    assert_equal "user-1", c.validate_id_token(t.id_token).subject
    req.close

    denied = c.ciba_request(scope: "openid", login_hint: "user-2")
    @idp.admin_post("/ciba/approve?deny=1&auth_req_id=#{URI.encode_www_form_component(denied.auth_req_id)}")
    assert_raises(Oidc::AccessDenied) { c.poll_ciba(denied, timeout: 30) }
  end

  def test_dpop
    c = oauth("svc-basic", "svc-basic-secret", dpop_key: key("dpop-ec.pem"))
    assert c.dpop?
    assert_includes c.inspect, "dpop"
    t = c.client_credentials(scope: "read", resources: ["urn:liboidc:es256"])
    assert_equal "DPoP", t.token_type
    claims = validator("urn:liboidc:es256").validate(t.access_token)
    assert_equal c.dpop_jkt, claims.dig("cnf", "jkt")
    proof = c.dpop_proof("get", "#{@idp.issuer}/me", access_token: t.access_token)
    assert_equal 3, proof.split(".").size
    assert_equal "dpop+jwt", JSON.parse(Base64.urlsafe_decode64(proof.split(".").first.then { |h| h + ("=" * ((4 - h.size % 4) % 4)) }))["typ"]
    assert_nil c.dpop_nonce("#{@idp.issuer}/me", "n-1")

    # code flow with a generated key, then userinfo through resource_request
    w = web(dpop_key: true)
    pkce, code = login(w, scope: %w[openid email])
    t = w.exchange_code(code: code, redirect_uri: CB, pkce: pkce)
    assert_equal "DPoP", t.token_type
    me = "#{@idp.issuer}/me"
    r = w.resource_request(:get, me, t)
    assert_equal 200, r.status, r.body
    assert r.success?
    assert_equal "user-1", r.json["sub"]
    refute_includes r.inspect, "user-1"
    # error cases: the bound token as Bearer, or with another key's proof
    assert_equal 401, w.resource_request("GET", me, t.access_token, token_type: "Bearer").status
    assert_equal 401, c.resource_request("GET", me, t).status
    assert_equal "DPoP", w.refresh(t).token_type
    # no DPoP key
    assert_raises(Oidc::Error) { web.dpop_jkt }
  end

  def test_endpoint
    c = web
    assert_equal @idp.token_endpoint, c.endpoint("token_endpoint")
    assert_equal "#{@idp.issuer}/device/auth", c.endpoint(:device_authorization_endpoint)
    o = oauth("web-app", "web-app-secret", endpoints: { token_endpoint: "https://127.0.0.1:9/token" })
    assert_equal "https://127.0.0.1:9/token", o.endpoint("token_endpoint")
    assert_raises(Oidc::Error) { c.endpoint("no_such_endpoint") }
  end
end
