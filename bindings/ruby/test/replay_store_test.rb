# frozen_string_literal: true

require_relative "test_helper"
require "jwt"
require "openssl"
require "digest"
require "base64"
require "socket"
require_relative "resp_redis"

# dpop_replay_store: a DPoP replay store shared by a fleet, as a Ruby callable behind liboidc's
# C callback. In one process the process-wide replay cache answers first, so the store's own
# effect shows with a store that refuses or fails, and across processes with a real Redis
# (Debian's redis-server, started here) shared by two processes.
class ReplayStoreTest < Minitest::Test
  include TestSupport

  ISS = "https://issuer.replay.test"
  AUD = "api://replay"
  URL = "https://api.replay.test/items"

  # A static key set, a DPoP key and a DPoP-bound token (real clock), all made here.
  def self.material
    @material ||= begin
      sig = OpenSSL::PKey::EC.generate("prime256v1")
      pop = OpenSSL::PKey::EC.generate("prime256v1")
      jwk = JWT::JWK.new(sig, "replay-es256").export.merge(alg: "ES256", use: "sig")
      pj = JWT::JWK.new(pop).export.slice(:kty, :crv, :x, :y)
      jkt = Base64.urlsafe_encode64(Digest::SHA256.digest(JSON.generate(crv: pj[:crv], kty: pj[:kty], x: pj[:x], y: pj[:y])),
                                    padding: false)
      now = Time.now.to_i
      token = JWT.encode({ iss: ISS, aud: AUD, sub: "alice", iat: now, exp: now + 600, cnf: { jkt: jkt } },
                         sig, "ES256", { kid: "replay-es256", typ: "at+jwt" })
      { jwks: { keys: [jwk] }, pop: pop, pop_jwk: pj, token: token }
    end
  end

  def material = self.class.material

  def proof
    m = material
    claims = { htm: "GET", htu: URL, iat: Time.now.to_i, jti: SecureRandom.hex(12),
               ath: Base64.urlsafe_encode64(Digest::SHA256.digest(m[:token]), padding: false) }
    JWT.encode(claims, m[:pop], "ES256", { typ: "dpop+jwt", jwk: m[:pop_jwk] })
  end

  def client(store)
    c = Oidc::Client.new(issuer: ISS, audiences: AUD, jwks_json: material[:jwks], dpop_replay_store: store)
    (@clients ||= []) << c
    c
  end

  def teardown
    @clients&.each(&:close)
  end

  def auth(c, p = proof)
    c.authenticate(method: "GET", url: URL, authorization: "DPoP #{material[:token]}", dpop: p)
  end

  def test_a_store_records_first_use_and_can_refuse
    seen = []
    lock = Mutex.new
    keys = {}
    store = lambda do |key, ttl|
      lock.synchronize do
        seen << [key, ttl]
        keys.key?(key) ? false : (keys[key] = true)
      end
    end
    d = auth(client(store))
    assert d.allowed?, d.inspect
    assert_equal 1, seen.size
    key, ttl = seen.first
    assert_kind_of String, key
    refute_empty key
    assert_operator ttl, :>, 0
    # a store that says "already used" denies a proof the process has never seen
    d = auth(client(->(_k, _t) { false }))
    assert_equal "DPOP_REPLAY", d.name
    assert_equal 401, d.status
  end

  def test_a_failing_store_denies_503
    [->(_k, _t) { nil }, ->(_k, _t) { raise "redis down" }, ->(_k, _t) { 1 }].each do |store|
      d = auth(client(store))
      assert_equal "REPLAY_STORE_UNAVAILABLE", d.name
      assert_equal 503, d.status
      assert_empty d.challenges
    end
    assert_raises(ArgumentError) { Oidc::Client.new(issuer: ISS, audiences: AUD, dpop_replay_store: :nope) }
  end

  def test_the_store_is_called_from_other_threads_with_the_gvl
    hits = Queue.new
    store = lambda do |_k, _t|
      hits << Thread.current
      true
    end
    c = client(store)
    threads = Array.new(4) { Thread.new { auth(c).allowed? } }
    assert_equal [true] * 4, threads.map(&:value)
    assert_equal 4, hits.size
  end

  # --- Redis, two processes ---

  def start_redis
    TestSupport.need(self, TestSupport.which("redis-server"), "redis-server (Debian redis-server)")
    port = TCPServer.open("127.0.0.1", 0) { |s| s.addr[1] }
    dir = Dir.mktmpdir("oidc-rb-redis")
    pid = Process.spawn("redis-server", "--port", port.to_s, "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", dir, out: File::NULL, err: File::NULL)
    100.times do
      TCPSocket.new("127.0.0.1", port).close
      return [pid, port]
    rescue Errno::ECONNREFUSED
      sleep 0.05
    end
    flunk "redis-server did not start"
  end

  # the same decision in another process (test/replay_store_child.rb), sharing Redis or not
  def child(proof, port)
    m = material
    arg = JSON.generate(iss: ISS, aud: AUD, url: URL, jwks: m[:jwks], token: m[:token], proof: proof, port: port)
    out, st = Open3.capture2e(RbConfig.ruby, "-I", File.expand_path("../lib", __dir__),
                              File.expand_path("replay_store_child.rb", __dir__), arg)
    assert st.success?, out
    out.strip
  end

  def test_a_proof_replayed_to_another_process_sharing_redis_is_denied
    pid, port = start_redis
    redis = RespRedis.new(port)
    c = client(->(k, t) { redis.set_nx(k, t) })
    p1 = proof
    assert auth(c, p1).allowed?
    # another process with the same Redis store: a replay; without it: allowed (its own cache is empty)
    assert_equal "DPOP_REPLAY", child(p1, port)
    p2 = proof
    assert_equal "OK", child(p2, nil)
    assert_equal "OK", child(proof, port)
  ensure
    if pid
      Process.kill(:TERM, pid) # our own redis-server, by pid
      Process.wait(pid)
    end
  end
end
