# frozen_string_literal: true

require_relative "test_helper"

# No drift: every OIDC_RESULT_* in include/oidc.h has an exception class with the same name and
# value, the library agrees, and the binding knows no code the header lacks.
class CodesTest < Minitest::Test
  include TestSupport

  def header_codes
    src = File.read(HEADER)
    codes = src.scan(/^\s*OIDC_RESULT_([A-Z0-9_]+)\s*=\s*(\d+)\s*,/).to_h { |n, v| [n, Integer(v)] }
    refute_empty codes
    codes
  end

  def test_every_header_code_has_a_class
    header_codes.each do |name, value|
      next if name == "OK"

      cname = Oidc.class_name_for(name)
      assert Oidc.const_defined?(cname, false), "Oidc::#{cname} missing for OIDC_RESULT_#{name}"
      klass = Oidc.const_get(cname, false)
      assert_operator klass, :<=, Oidc::Error
      assert_equal value, klass::CODE, "Oidc::#{cname}::CODE"
      assert_equal name, klass::NAME, "Oidc::#{cname}::NAME"
      assert_same klass, Oidc::Error.for_code(value)
      assert_equal name, Oidc.result_name(value), "liboidc's name for #{value}"
      range = Oidc::RANGES.find { |r, _| r.cover?(value) }&.last
      refute_nil range, "code #{value} is in no range"
      assert_operator klass, :<=, range
      e = klass.new
      assert_equal value, e.code
      assert_equal name, e.name
    end
  end

  def test_binding_knows_no_code_the_header_lacks
    expected = header_codes.reject { |n, _| n == "OK" }
    assert_equal expected, Oidc::RESULT_CODES
  end

  def test_range_classes
    assert_operator Oidc::TokenExpired, :<, Oidc::TokenError
    assert_operator Oidc::SignatureInvalid, :<, Oidc::TokenError
    assert_operator Oidc::DpopReplay, :<, Oidc::RequestError
    assert_operator Oidc::RequestError, :<, Oidc::TokenError
    assert_same Oidc::RequestError, Oidc::Error.for_code(339)
    assert_operator Oidc::InvalidGrant, :<, Oidc::OAuthError
    assert_operator Oidc::Tls, :<, Oidc::NetworkError
    assert_operator Oidc::InvalidConfig, :<, Oidc::ConfigError
    assert_operator Oidc::StateMismatch, :<, Oidc::ProtocolError
    assert_operator Oidc::NullParameter, :<, Oidc::UsageError
    assert_operator Oidc::ClosedError, :<, Oidc::UsageError
    [Oidc::UsageError, Oidc::ConfigError, Oidc::NetworkError, Oidc::TokenError, Oidc::OAuthError,
     Oidc::ProtocolError].each { |k| assert_operator k, :<, Oidc::Error }
    assert_operator Oidc::Error, :<, StandardError
  end

  def test_unknown_codes_fall_into_their_range
    assert_same Oidc::TokenError, Oidc::Error.for_code(399)
    assert_same Oidc::NetworkError, Oidc::Error.for_code(250)
    assert_same Oidc::Error, Oidc::Error.for_code(4242)
    assert_nil Oidc.result_name(4)
    assert_equal "token expired", Oidc.result_str(305).downcase
  end
end
