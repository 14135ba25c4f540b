# frozen_string_literal: true

require_relative "test_helper"
require "base64"

# The shared JOSE vectors of issue 14, every case decided by liboidc through this binding (one
# test per case, named after it):
#   tests/vectors/jose_jwe.json  OAuthClient#decrypt with the case's key and algorithms
#   tests/vectors/jose_jws.json  OAuthClient#verify_jws with the case's static key set
#   tests/vectors/logout.json    OAuthClient#validate_logout_token / #validate_id_token and
#                                Client#validate_at, the steps of a case on one client
# A case the C ABI cannot express is skipped with the reason (never silently); see SKIPS.
class JoseVectorsTest < Minitest::Test
  include TestSupport

  DIR = File.join(TestSupport::ROOT, "tests", "vectors")
  JWE = JSON.parse(File.read(File.join(DIR, "jose_jwe.json")))
  JWS = JSON.parse(File.read(File.join(DIR, "jose_jws.json")))
  LOGOUT = JSON.parse(File.read(File.join(DIR, "logout.json")))
  ISSUER = "https://jose.vectors.test"
  JWS_NOW = 1_800_000_000 # the instant tests/jose_jws.rs decides at

  # liboidc's defaults, read from liboidc (a validator's policy export, defaults included): the
  # protocol client's builder has no algorithm or leeway setter, so a case can be run only when
  # it asks for these.
  DEFAULTS = begin
    c = Oidc::Client.new(issuer: ISSUER, any_audience: true, jwks_json: JWS["cases"].first["jwks"])
    c.policy.slice("algorithms", "leeway_secs").tap { c.close }
  end

  def self.test_name(prefix, index, name)
    :"test_#{prefix}_#{format('%02d', index)}_#{name.downcase.gsub(/[^a-z0-9]+/, '_').gsub(/\A_|_\z/, '')}"
  end

  def b64url(bytes) = Base64.urlsafe_encode64(bytes, padding: false)

  def teardown
    @closing&.each(&:close)
  end

  def keep(*objs)
    (@closing ||= []).concat(objs)
    objs.first
  end

  def assert_same_value(expected, actual, what)
    expected.nil? ? assert_nil(actual, what) : assert_equal(expected, actual, what)
  end

  # --- JWE -----------------------------------------------------------------------------------

  def test_jwe_file_shape
    assert_operator JWE["cases"].size, :>=, 40
    assert_equal 6, JWE["cases"].count { |c| c["expect"]["plaintext_b64url"] }, "the six RFC 7520 compact examples"
  end

  JWE["cases"].each_with_index do |c, i|
    define_method(test_name("jwe", i, c["name"])) do
      if c.key?("max_plaintext")
        skip "#{c['name']}: max_plaintext #{c['max_plaintext']} (the C ABI has no plaintext bound to set; " \
             "liboidc's default bound is 64 KiB)"
      end
      kw = { decryption_keys: [JSON.generate(c["key"])] }
      kw[:decryption_algorithms] = c["algorithms"] if c["algorithms"]
      # any valid key set: decryption needs none, the client does
      o = keep(Oidc::OAuthClient.new(issuer: ISSUER, client_id: "rp", jwks_json: JWS["cases"].first["jwks"], **kw))
      expect = c["expect"]
      if (pt = expect["plaintext_b64url"])
        got = o.decrypt(c["jwe"])
        assert_equal pt, b64url(got.payload), c["name"]
        assert_equal Encoding::BINARY, got.payload.encoding
        assert_equal got.payload, got.text.b, "the RFC plaintext is UTF-8 text"
        %w[alg enc].each { |m| assert_kind_of String, got.header[m], "#{c['name']}: header #{m}" }
        refute_includes got.inspect, "Frodo", "inspect never shows the plaintext"
      else
        e = assert_raises(Oidc::Error, c["name"]) { o.decrypt(c["jwe"]) }
        assert_equal expect["code"], e.name, "#{c['name']}: #{e.message}"
        assert_equal expect["message"], e.message, c["name"] if expect["message"]
        refute_includes e.message, "Frodo", c["name"]
        refute_includes e.message, c["key"]["d"].to_s[0, 16], c["name"] if c["key"]["d"]
      end
    end
  end

  # --- JWS -----------------------------------------------------------------------------------

  def test_jws_file_shape
    assert_operator JWS["cases"].size, :>=, 50
    assert JWS["cases"].any? { |c| c["source"].start_with?("RFC 7520 §4.3") }, "the RFC ES512 example"
  end

  JWS["cases"].each_with_index do |c, i|
    define_method(test_name("jws", i, c["name"])) do
      o = keep(Oidc::OAuthClient.new(issuer: ISSUER, client_id: "api", jwks_json: c["jwks"], algorithms: c["algorithms"]))
      detached = c["detached_payload_b64url"] && Base64.urlsafe_decode64(c["detached_payload_b64url"])
      expect = c["expect"]
      if expect["code"]
        e = assert_raises(Oidc::Error, c["name"]) { o.verify_jws(c["jws"], detached_payload: detached, now: JWS_NOW) }
        assert_equal expect["code"], e.name, "#{c['name']}: #{e.message}"
      else
        got = o.verify_jws(c["jws"], detached_payload: detached, now: JWS_NOW)
        assert_equal expect["payload_b64url"], b64url(got.payload), c["name"]
        assert_equal expect["header"], got.header, c["name"]
        assert_equal got.header["alg"], got.alg
        text = got.payload.dup.force_encoding(Encoding::UTF_8)
        if text.valid_encoding?
          assert_equal text, got.text, "#{c['name']}: text when UTF-8"
        else
          assert_nil got.text, "#{c['name']}: no text for a binary payload"
        end
      end
    end
  end

  # --- back-channel logout tokens -------------------------------------------------------------

  def test_logout_file_shape
    assert_operator LOGOUT["cases"].size, :>=, 40
    assert_operator LOGOUT["cases"].sum { |c| c["steps"].size }, :>=, 45
  end

  LOGOUT["cases"].each_with_index do |c, i|
    define_method(test_name("logout", i, c["name"])) do
      cfg = LOGOUT["client"]
      known = %w[issuer client_id jwks leeway_secs]
      assert_empty cfg.keys - known, "logout.json: unknown client member"
      assert_empty c["client"].keys - %w[accept_untyped], "logout.json: unknown case client option"
      unless cfg["leeway_secs"] == DEFAULTS["leeway_secs"]
        skip "leeway #{cfg['leeway_secs']} s: the protocol client's leeway cannot be set through the C ABI"
      end
      now = LOGOUT["now"]
      rp = keep(Oidc::OAuthClient.new(issuer: cfg["issuer"], client_id: cfg["client_id"], jwks_json: cfg["jwks"],
                                      logout_accept_untyped: c["client"]["accept_untyped"] == true))
      rs = keep(Oidc::Client.new(issuer: cfg["issuer"], audiences: cfg["client_id"], jwks_json: cfg["jwks"],
                                 leeway: cfg["leeway_secs"]))
      c["steps"].each_with_index do |s, n|
        what = "#{c['name']} step #{n}"
        got = nil
        code, name = begin
          got = case s["path"]
                when "logout_token" then rp.validate_logout_token(s["token"], now: now)
                when "access_token" then rs.validate_at(s["token"], now)
                when "id_token" then rp.validate_id_token(s["token"], now: now)
                else flunk "#{what}: unknown path #{s['path']}"
                end
          [0, "OK"]
        rescue Oidc::Error => e
          [e.code, e.name]
        end
        assert_equal [s["code"], s["expect"]], [code, name], what
        next unless got.is_a?(Oidc::LogoutToken)

        assert_same_value s["sub"], got.sub, what
        assert_same_value s["sid"], got.sid, what # null: absent
        assert_equal s["jti"], got.jti, what
        assert_equal cfg["issuer"], got.iss, what
        assert_equal got.jti, got.claims["jti"], what
        assert got.claims.key?("events"), what
      end
    end
  end
end
