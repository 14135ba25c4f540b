# frozen_string_literal: true

require_relative "test_helper"

# tests/vectors/validation.json: the same tokens, config and clock as the Rust core, the C ABI
# and the other bindings; every case must end with the same code.
class VectorsTest < Minitest::Test
  include TestSupport

  def setup
    @client = vector_client
  end

  def teardown
    @client.close
  end

  def test_every_vector_has_the_shared_outcome
    v = vectors
    assert_operator v["cases"].size, :>=, 30
    v["cases"].each do |c|
      got = begin
        claims = @client.validate_at(c["token"], v["now"])
        assert_equal "alice", claims.subject, c["name"]
        assert_equal "alice", claims["sub"], c["name"]
        0
      rescue Oidc::Error => e
        assert_equal Oidc::Error.for_code(e.code), e.class, c["name"]
        assert_equal c["expect"], e.name, c["name"]
        e.code
      end
      assert_equal c["code"], got, "vector #{c['name'].inspect}"
    end
  end

  def test_token_errors_carry_the_rfc6750_answer
    v = vectors
    c = v["cases"].find { |x| x["expect"] == "TOKEN_EXPIRED" }
    e = assert_raises(Oidc::TokenExpired) { @client.validate_at(c["token"], v["now"]) }
    assert_kind_of Oidc::TokenError, e
    assert_equal 305, e.code
    assert_equal "TOKEN_EXPIRED", e.name
    assert_equal 401, e.http_status
    assert_equal "invalid_token", e.oauth_error
    assert_match(/\ABearer .*error="invalid_token"/, e.www_authenticate)
    assert_equal 305, e.details["code"]
    refute_includes e.message, c["token"].split(".")[1], "messages never contain token contents"
  end

  def test_claims_accessors
    v = vectors
    ok = v["cases"].find { |x| x["name"] == "valid RS256" }
    claims = @client.validate_at(ok["token"], Time.at(v["now"]))
    assert_equal "https://issuer.vectors.test", claims.issuer
    assert_equal ["api://vectors"], claims.audiences
    assert_equal "read write", claims["scope"]
    refute_respond_to claims, :scopes, "scope decisions are liboidc's (Client required_scopes:)"
    assert_equal Time.at(1_800_000_300), claims.expires_at
    assert_equal "svc", claims.client_id
    assert_equal "alice", claims[:sub]
    assert_equal claims.to_h, JSON.parse(claims.to_json)
    assert claims.frozen? == false && claims.to_h.frozen? == false
  end
end
