# frozen_string_literal: true

require_relative "test_helper"

# Blocking calls release the GVL: several threads each waiting on a slow JWKS fetch overlap.
class GvlTest < Minitest::Test
  include TestSupport

  THREADS = 4
  SLOW_MS = 300

  def test_blocking_validations_run_in_parallel
    overlap("validate") { |c, token| c.validate(token) }
  end

  # oidc_authenticate is attached with blocking: true too (it may fetch keys, and call a replay store)
  def test_blocking_authentications_run_in_parallel
    overlap("authenticate") do |c, token|
      d = c.authenticate(method: "GET", url: "https://api.ruby.test/x", authorization: "Bearer #{token}")
      assert d.allowed?, d.inspect
    end
  end

  def overlap(what)
    tk = Testkit.instance(self)
    token = tk.token(alg: "ES256")
    # fresh clients, each with its own (cold) cache entry, each hit delayed by 300 ms
    clients = Array.new(THREADS) do |i|
      Oidc::Client.new(issuer: tk.issuer, audiences: "api://ruby", ca_file: tk.ca_file,
                       jwks_uri: tk.fresh_jwks_uri("gvl-#{what}-#{i}"))
    end
    tk.fault(path: "/jwks", mode: "slow_ms=#{SLOW_MS}", count: THREADS)
    mono = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
    # a Ruby thread that only counts proves Ruby code also runs during the native calls
    ticks = 0
    stop = false
    counter = Thread.new { until stop; ticks += 1; sleep 0.005; end }
    t0 = mono.call
    durations = clients.map do |c|
      Thread.new do
        s = mono.call
        yield c, token
        mono.call - s
      end
    end.map(&:value)
    wall = mono.call - t0
    stop = true
    counter.join
    sum = durations.sum
    durations.each { |d| assert_operator d, :>=, SLOW_MS / 1000.0 * 0.9, "each call waited for the slow JWKS" }
    assert_operator wall, :<, 0.8 * sum, "wall #{wall.round(3)} s vs sum #{sum.round(3)} s: GVL held?"
    assert_operator ticks, :>=, 10, "the counting thread starved (#{ticks} ticks)"
    warn format("  [gvl #{what}] %d threads: wall %.3f s, sum of calls %.3f s (%.2fx), counter ticks %d",
                THREADS, wall, sum, sum / wall, ticks) if ENV["OIDC_VERBOSE"]
  ensure
    tk&.fault(path: "/jwks", mode: "ok")
    clients&.each(&:close)
  end

  # One client shared by many threads gives every thread the shared vectors' outcomes.
  def test_shared_client_from_many_threads
    c = vector_client
    v = vectors
    results = Array.new(8) do
      Thread.new do
        v["cases"].shuffle.map do |k|
          got = begin
            c.validate_at(k["token"], v["now"]) && 0
          rescue Oidc::Error => e
            e.code
          end
          [k["name"], got == k["code"]]
        end
      end
    end.flat_map(&:value)
    assert(results.all?(&:last), results.reject(&:last).map(&:first).uniq.inspect)
  ensure
    c&.close
  end

  # close racing with validations on other threads: every call either completes or raises
  # ClosedError; nothing touches a freed handle.
  def test_close_while_threads_validate
    v = vectors
    ok = v["cases"].find { |k| k["name"] == "valid RS256" }["token"]
    5.times do
      c = vector_client
      started = Queue.new
      threads = Array.new(4) do
        Thread.new do
          n = 0
          started << true
          loop do
            c.validate_at(ok, v["now"])
            n += 1
          end
        rescue Oidc::ClosedError
          n
        end
      end
      4.times { started.pop }
      sleep 0.02
      c.close
      counts = threads.map(&:value)
      assert(counts.all? { |n| n.is_a?(Integer) }, counts.inspect)
    end
  end
end
