# frozen_string_literal: true

require_relative "test_helper"

# Process-wide calls: metrics, key-cache snapshots, warm start (prefetch), worker pool bounds.
class ProcessTest < Minitest::Test
  include TestSupport

  def test_metrics
    m = Oidc.metrics
    %w[validations cache discovery snapshot async].each { |k| assert_kind_of Hash, m[k], k }
    c = vector_client
    before = Oidc.metrics.dig("validations", "failed")
    assert_raises(Oidc::TokenMalformed) { c.validate("x") }
    assert_operator Oidc.metrics.dig("validations", "failed"), :>, before
  ensure
    c&.close
  end

  def test_prefetch_and_cache_snapshot
    tk = Testkit.instance(self)
    c = Oidc::Client.new(issuer: tk.issuer, audiences: "api://ruby", ca_file: tk.ca_file, prefetch: :fail_fast)
    snap = c.cache_export
    parsed = JSON.parse(snap)
    assert_includes snap, tk.jwks_uri, "the client's key set is in its snapshot"
    refute_empty parsed
    assert_kind_of String, Oidc.cache_export
    assert_kind_of Integer, Oidc.cache_import(snap)
    assert_kind_of Integer, Oidc.cache_import(parsed, client: c)
    assert_raises(Oidc::Error) { Oidc.cache_import("{not json") }
    assert_equal "api://ruby", c.validate(tk.token(alg: "ES256")).audiences.first
    # fail fast: the fetch's error at construction
    assert_raises(Oidc::NetworkError) do
      Oidc::Client.new(issuer: "https://127.0.0.1:9", audiences: "x", prefetch: :fail_fast, connect_timeout: 0.5,
                       timeout: 1)
    end
    bg = Oidc::Client.new(issuer: tk.issuer, audiences: "api://ruby", ca_file: tk.ca_file, prefetch: :background)
    assert_equal "api://ruby", bg.validate(tk.token(alg: "RS256")).audiences.first
    assert_raises(ArgumentError) { Oidc::Client.new(issuer: tk.issuer, prefetch: :sometimes) }
  ensure
    c&.close
    bg&.close
  end

  def test_async_configure_checks_its_arguments
    assert_raises(Oidc::InvalidArgument) { Oidc.async_configure(queue_capacity: 0) }
  end
end
