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

  def pool_threads
    Dir.glob("/proc/self/task/*/comm").count { |f| File.read(f).start_with?("oidc-worker", "oidc-completer") }
  rescue Errno::ENOENT
    retry
  end

  def test_shutdown_workers_joins_the_pool_and_it_restarts_on_demand
    tk = Testkit.instance(self)
    bg = Oidc::Client.new(issuer: tk.issuer, audiences: "api://ruby", ca_file: tk.ca_file,
                          jwks_uri: "#{tk.jwks_uri}?ruby-shutdown", prefetch: :background)
    deadline = Time.now + 10
    sleep 0.01 until pool_threads.positive? || Time.now > deadline
    assert_operator pool_threads, :>, 0, "background prefetch runs on the pool"
    assert_equal true, Oidc.shutdown_workers(timeout: 10)
    # a joined thread can linger in /proc for a moment after pthread_join returns
    deadline = Time.now + 2
    sleep 0.01 until pool_threads.zero? || Time.now > deadline
    assert_equal 0, pool_threads, "every pool thread joined"
    assert_equal true, Oidc.shutdown_workers(timeout: 0), "no pool: nothing to wait for"
    assert_equal "api://ruby", bg.validate(tk.token(alg: "ES256")).audiences.first
    bg2 = Oidc::Client.new(issuer: tk.issuer, audiences: "api://ruby", ca_file: tk.ca_file,
                           jwks_uri: "#{tk.jwks_uri}?ruby-restart", prefetch: :background)
    deadline = Time.now + 10
    sleep 0.01 until pool_threads.positive? || Time.now > deadline
    assert_operator pool_threads, :>, 0, "a new pool on demand"
    assert_raises(ArgumentError) { Oidc.shutdown_workers(timeout: -1) }
  ensure
    bg&.close
    bg2&.close
  end

  def test_async_configure_checks_its_arguments
    assert_raises(Oidc::InvalidArgument) { Oidc.async_configure(queue_capacity: 0) }
  end
end
