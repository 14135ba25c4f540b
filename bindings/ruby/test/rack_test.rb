# frozen_string_literal: true

require_relative "test_helper"
require "rack"
require "rack/mock"
require "rack/lint"

class RackTest < Minitest::Test
  include TestSupport

  APP = ->(env) { [200, { "content-type" => "text/plain" }, ["hello #{env['oidc.claims'].subject}"]] }

  def setup
    @tk = Testkit.instance(self)
    @client = Oidc::Client.new(issuer: @tk.issuer, audiences: "api://ruby", ca_file: @tk.ca_file,
                               realm: "api")
  end

  def teardown
    @client&.close
  end

  def request(token, required_scopes: [], client: @client, header: nil)
    app = ::Rack::Lint.new(Oidc::Rack::BearerAuth.new(::Rack::Lint.new(APP), client: client,
                                                                            required_scopes: required_scopes))
    env = {}
    env["HTTP_AUTHORIZATION"] = header || "Bearer #{token}" if token || header
    ::Rack::MockRequest.new(app).get("/resource", env)
  end

  def test_valid_token_reaches_the_app_with_claims
    seen = nil
    app = lambda do |env|
      seen = env["oidc.claims"]
      [200, { "content-type" => "text/plain" }, ["ok"]]
    end
    mw = Oidc::Rack::BearerAuth.new(app, client: @client, required_scopes: %w[read])
    res = ::Rack::MockRequest.new(mw).get("/", "HTTP_AUTHORIZATION" => "Bearer #{@tk.token(scope: 'read write', sub: 'bob')}")
    assert_equal 200, res.status
    assert_kind_of Oidc::Claims, seen
    assert_equal "bob", seen.subject
    assert_equal 200, request(@tk.token).status
    assert_equal "hello test-user", request(nil, header: "bearer   #{@tk.token}").body
  end

  def test_missing_token_is_401_without_error_code
    res = request(nil)
    assert_equal 401, res.status
    assert_equal 'Bearer realm="api"', res.headers["www-authenticate"]
    assert_equal 401, request(nil, header: "Basic dXNlcjpwYXNz").status
  end

  def test_rejected_token_gets_the_core_challenge
    expired = @tk.token(exp_in: -600)
    core = assert_raises(Oidc::TokenExpired) { @client.validate(expired) }
    res = request(expired)
    assert_equal 401, res.status
    assert_equal core.www_authenticate, res.headers["www-authenticate"]
    assert_match(/\ABearer realm="api", error="invalid_token"/, res.headers["www-authenticate"])
    assert_equal "invalid_token", JSON.parse(res.body)["error"]
    assert_equal 401, request("garbage").status
  end

  def test_insufficient_scope_is_403
    res = request(@tk.token(scope: "read"), required_scopes: %w[read admin])
    assert_equal 403, res.status
    assert_match(/error="insufficient_scope"/, res.headers["www-authenticate"])
    assert_match(/scope="read admin"/, res.headers["www-authenticate"])
    assert_equal 200, request(@tk.token(scope: "admin read"), required_scopes: %w[read admin]).status
  end

  def test_key_outage_is_503_without_challenge
    down = Oidc::Client.new(issuer: @tk.issuer, audiences: "api://ruby", ca_file: @tk.wrong_ca_file,
                            jwks_uri: @tk.fresh_jwks_uri("rack503"))
    res = request(@tk.token, client: down)
    assert_equal 503, res.status
    assert_nil res.headers["www-authenticate"]
  ensure
    down&.close
  end
end
