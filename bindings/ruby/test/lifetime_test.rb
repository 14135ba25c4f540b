# frozen_string_literal: true

require_relative "test_helper"

# Handles: explicit close, double close, use after close, and the GC as a backstop.
class LifetimeTest < Minitest::Test
  include TestSupport

  def ok_token
    vectors["cases"].find { |c| c["name"] == "valid ES256" }["token"]
  end

  def test_double_close_is_harmless
    c = vector_client
    refute c.closed?
    assert_nil c.close
    assert c.closed?
    assert_nil c.close
    assert c.closed?
  end

  def test_use_after_close_raises_closed_error
    c = vector_client
    c.validate_at(ok_token, vectors["now"])
    c.close
    assert_raises(Oidc::ClosedError) { c.validate(ok_token) }
    assert_raises(Oidc::ClosedError) { c.validate_at(ok_token, vectors["now"]) }
    e = assert_raises(Oidc::ClosedError) { c.prefetch }
    assert_kind_of Oidc::UsageError, e
    assert_nil e.code
    assert_match(/closed/, c.inspect)
  end

  def test_oauth_client_close
    c = Oidc::OAuthClient.new(issuer: "https://127.0.0.1:9", client_id: "x", client_secret: "s3cr3t-value")
    c.close
    c.close
    assert_raises(Oidc::ClosedError) { c.client_credentials(scope: "read") }
  end

  # Forgotten clients are freed by the GC through FFI::AutoPointer.
  def test_gc_frees_unclosed_clients
    before = Oidc::Handle.freed
    n = 300
    make = lambda do
      n.times { vector_client.validate_at(ok_token, vectors["now"]) }
      n.times { Oidc::OAuthClient.new(issuer: "https://127.0.0.1:9", client_id: "x") }
      nil
    end
    make.call
    freed = 0
    20.times do
      GC.start(full_mark: true, immediate_sweep: true)
      sleep 0.02 # finalizers run at the next interrupt check
      freed = Oidc::Handle.freed - before
      break if freed >= 2 * n * 0.9
    end
    # a conservative stack scan may keep a few alive; nearly all must be gone
    assert_operator freed, :>=, (2 * n * 0.9).to_i, "only #{freed} of #{2 * n} handles were freed"
  end

  # Cancel handles: close frees at once, a closed one refuses use, forgotten ones go to the GC.
  def test_cancel_handles
    c = Oidc::Cancel.new
    c.cancel
    assert c.cancelled?
    before = Oidc::Handle.freed
    c.close
    c.close
    assert_equal before + 1, Oidc::Handle.freed
    assert c.closed?
    assert_raises(Oidc::ClosedError) { c.cancel }
    n = 200
    -> { n.times { Oidc::Cancel.new } }.call
    freed = 0
    20.times do
      GC.start(full_mark: true, immediate_sweep: true)
      sleep 0.02
      freed = Oidc::Handle.freed - before - 1
      break if freed >= n * 0.9
    end
    assert_operator freed, :>=, (n * 0.9).to_i, "only #{freed} of #{n} cancel handles were freed"
  end

  # Many unclosed clients do not grow the process without bound.
  def test_unclosed_clients_do_not_leak_memory
    rss = -> { File.read("/proc/self/status")[/VmRSS:\s+(\d+)/, 1].to_i } # KiB
    jwks = JSON.generate(vectors["jwks"])
    warm = lambda do |k|
      k.times do
        Oidc::Client.new(issuer: "https://issuer.vectors.test", audiences: "a", jwks_json: jwks)
      end
      GC.start
    end
    warm.call(2000)
    base = rss.call
    5.times { warm.call(2000) }
    sleep 0.05
    GC.start
    grown = rss.call - base
    assert_operator grown, :<, 40 * 1024, "RSS grew by #{grown} KiB over 10000 unclosed clients"
  end

  def test_close_waits_for_a_running_call_on_another_thread
    tk = Testkit.instance(self)
    tk.fault(path: "/jwks", mode: "slow", ms: 400, count: 1)
    c = Oidc::Client.new(issuer: tk.issuer, audiences: "api://ruby", ca_file: tk.ca_file,
                         jwks_uri: tk.fresh_jwks_uri("close"))
    token = tk.token
    t = Thread.new { c.validate(token) }
    sleep 0.15 # t is now inside liboidc (GVL released), waiting for the slow JWKS
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    c.close # must wait for the call; freeing under it would be a use-after-free
    waited = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    claims = t.value
    assert_equal "test-user", claims.subject
    assert_operator waited, :>, 0.1, "close returned before the running validation"
    assert_raises(Oidc::ClosedError) { c.validate(token) }
  ensure
    tk&.fault(path: "/jwks", mode: "ok")
  end
end
