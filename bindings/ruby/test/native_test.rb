# frozen_string_literal: true

require_relative "test_helper"
require "rbconfig"

class NativeTest < Minitest::Test
  include TestSupport

  LIB = File.expand_path("../lib", __dir__)

  def ruby(code, env = {})
    Open3.capture3(env, RbConfig.ruby, "-I", LIB, "-e", code)
  end

  def test_version_gate
    assert Oidc.lib_version_fits?(Oidc::Native.oidc_version_number)
    assert_equal Oidc.library_version, Oidc.version_string(Oidc::Native.oidc_version_number)
    assert Oidc.lib_version_fits?(0x000103, 0x000100)
    refute Oidc.lib_version_fits?(0x000200, 0x000100), "0.2 is another ABI than 0.1"
    refute Oidc.lib_version_fits?(0x010000, 0x000100)
    refute Oidc.lib_version_fits?(0x000100, 0x000101), "older patch than needed"
    assert Oidc.lib_version_fits?(0x010200, 0x010100)
    refute Oidc.lib_version_fits?(0x010000, 0x010100)
  end

  def test_missing_library_raises_with_hint
    _out, err, st = ruby('begin; require "oidc"; rescue LoadError => e; warn e.class, e.message; exit 3; end',
                         "OIDC_LIB" => "/nonexistent/liboidc.so")
    assert_equal 3, st.exitstatus, err
    assert_includes err, "Oidc::LibraryLoadError"
    assert_includes err, "OIDC_LIB="
    assert_includes err, "cargo cinstall"
  end

  def test_version_mismatch_refuses_to_load
    code = <<~RUBY
      require "oidc/version"
      Oidc.send(:remove_const, :LIB_VERSION_REQUIRED)
      Oidc.const_set(:LIB_VERSION_REQUIRED, 0x000900) # pretend this binding needs the 0.9 ABI
      begin
        require "oidc"
      rescue Oidc::LibraryLoadError => e
        warn e.message
        exit 3
      end
    RUBY
    _out, err, st = ruby(code)
    assert_equal 3, st.exitstatus, err
    assert_includes err, "needs 0.9.0-compatible"
    assert_includes err, "liboidc #{Oidc.library_version}"
  end

  # Runtime-only installs have the SONAME (liboidc.so.0.x) but no liboidc.so: the fallback finds it.
  def test_soname_fallback
    real = [ENV["OIDC_LIB"], *ENV.fetch("LD_LIBRARY_PATH", "").split(":").map { |d| File.join(d, "liboidc.so") }]
           .compact.find { |f| !f.empty? && File.exist?(f) }
    TestSupport.need(self, real, "needs OIDC_LIB or LD_LIBRARY_PATH to locate liboidc.so")
    Dir.mktmpdir do |d|
      File.symlink(File.realpath(real), File.join(d, Oidc::LIB_SONAME))
      env = { "OIDC_LIB" => nil, "LD_LIBRARY_PATH" => d }
      out, err, st = ruby('require "oidc"; print Oidc.library_version', env)
      assert st.success?, err
      assert_equal Oidc.library_version, out
    end
  end

  # Deliberately not wrapped: the non-blocking API (completion callbacks run on liboidc's
  # worker threads; Ruby uses the blocking calls, which release the GVL, on its own threads:
  # OAuthRequest#send is the one protocol send), and the log callback (also called from any
  # thread).
  NOT_EXPOSED = %w[oidc_validate_async oidc_validate_at_async oidc_validator_prefetch_async
                   oidc_oauth_send_async oidc_authenticate_async oidc_set_log_callback].freeze

  # ABI 0.1's flat protocol calls, their _async twins and their handles (the request object
  # replaced them; handoff spec ABI02.md "What goes away"). The binding attaches none of them.
  REMOVED_IN_0_2 = %w[exchange_code refresh client_credentials client_credentials_cached token_exchange
                      jwt_bearer custom_grant device_authorization device_poll ciba_request ciba_poll
                      introspect revoke userinfo authorization_url push_authorization_request
                      parse_authorization_response end_session_url validate_id_token register
                      resource_request client_endpoint]
                   .flat_map { |f| ["oidc_oauth_#{f}", "oidc_oauth_#{f}_async"] } +
                   %w[access_token token_type refresh_token id_token scope issued_token_type json expires_in free]
                   .map { |f| "oidc_token_response_#{f}" } +
                   %w[user_code verification_uri verification_uri_complete expires_in interval free]
                   .map { |f| "oidc_device_authorization_#{f}" } +
                   %w[auth_req_id expires_in interval free].map { |f| "oidc_ciba_request_#{f}" } +
                   %w[new generate challenge code_verifier code_challenge code_challenge_method state nonce free]
                   .map { |f| "oidc_pkce_#{f}" } +
                   %w[oidc_cancel_cancel oidc_cancel_new_with_timeout_ms]

  def test_removed_functions_are_not_attached
    attached = REMOVED_IN_0_2.select { |f| Oidc::Native.respond_to?(f) }
    assert_empty attached, "the binding still attaches 0.1 protocol functions"
  end

  def test_removed_functions_are_gone_from_the_header
    declared = File.read(TestSupport::HEADER).scan(/\b(oidc_[a-z0-9_]+)\s*\(/).flatten.uniq
    assert_empty declared & REMOVED_IN_0_2
  end

  def test_not_exposed_functions_are_declared
    declared = File.read(TestSupport::HEADER).scan(/\b(oidc_[a-z0-9_]+)\s*\(/).flatten.uniq
    assert_empty NOT_EXPOSED - declared, "stale entries in NOT_EXPOSED"
  end

  # Every function the header declares is attached (no C function left unwrapped).
  def test_every_header_function_is_attached
    declared = File.read(TestSupport::HEADER).scan(/\b(oidc_[a-z0-9_]+)\s*\(/).flatten.uniq
    declared -= %w[oidc_test_panic] # test-hooks builds only
    declared -= NOT_EXPOSED
    missing = declared.reject { |f| Oidc::Native.respond_to?(f) }
    assert_empty missing, "declared in include/oidc.h but not wrapped"
  end

  def test_every_attached_function_exists
    # attach_function would have raised at require time otherwise
    %i[oidc_validate oidc_validate_at oidc_validator_prefetch oidc_oauth_request_new oidc_oauth_send
       oidc_oauth_response_string oidc_oauth_response_json oidc_cancel_trigger].each do |f|
      assert Oidc::Native.available?(f), f
    end
  end

  def test_strings_in_any_encoding
    c = vector_client
    e = assert_raises(Oidc::TokenMalformed) { c.validate("h\u00e9llo".encode("ISO-8859-1")) }
    assert_equal 300, e.code
    # liboidc decides: bad bytes in a token are the token's fault (401), in configuration misuse
    assert_raises(Oidc::TokenMalformed) { c.validate("\xc3\x28".b) }
    assert_raises(Oidc::TokenMalformed) { c.validate(+"\xc3\x28") }
    assert_raises(Oidc::InvalidUtf8) { Oidc::Client.new(issuer: "https://idp.example", audiences: "\xff".b) }
    assert_raises(Oidc::TokenMalformed) { c.validate("") }
    assert_raises(TypeError) { c.validate(nil) }
  ensure
    c&.close
  end

  def test_error_objects
    e = Oidc::SignatureInvalid.new("x")
    assert_equal 304, e.code
    assert_equal "SIGNATURE_INVALID", e.name
    assert_equal 500, e.http_status
    assert_match(/SIGNATURE_INVALID\(304\)/, e.inspect)
  end
end
