# frozen_string_literal: true

require_relative "test_helper"
require_relative "resp_redis"

# Client#authenticate against the real oidc-provider (tests/idp), which issues DPoP-bound access
# tokens to a client with a DPoP key: a fresh proof is allowed; the same proof replayed, a proof
# for another method or URL, the token sent as Bearer and a proof from another key are each
# denied with their code; a proof replayed to a second process sharing a Redis-backed replay
# store is denied too.
class AuthenticateIdpTest < Minitest::Test
  include TestSupport

  KEYS = File.join(TestSupport::ROOT, "tests", "idp", "client-keys")
  RESOURCE = "urn:liboidc:es256"
  URL = "https://api.example.test/items?page=2"

  def setup
    @idp = Idp.instance(self)
    @closing = []
  end

  def teardown
    @closing.each(&:close)
  end

  def closing(c)
    @closing << c
    c
  end

  def oauth(**opts)
    closing(Oidc::OAuthClient.new(issuer: @idp.issuer, client_id: "svc-basic", client_secret: "svc-basic-secret",
                                  ca_file: @idp.ca_file, **opts))
  end

  def api(**opts)
    closing(Oidc::Client.new(issuer: @idp.issuer, audiences: RESOURCE, ca_file: @idp.ca_file, realm: "api", **opts))
  end

  def dpop_auth(client, token, proof, method: "GET", url: URL)
    client.authenticate(method: method, url: url, authorization: "DPoP #{token}", dpop: proof)
  end

  def test_dpop_bound_token_from_the_idp
    holder = oauth(dpop_key: File.read(File.join(KEYS, "dpop-ec.pem")))
    t = holder.client_credentials(scope: "read", resources: [RESOURCE])
    assert_equal "DPoP", t.token_type
    at = t.access_token
    rs = api(required_scopes: %w[read])

    p1 = holder.dpop_proof("GET", URL, access_token: at)
    d = dpop_auth(rs, at, p1)
    assert d.allowed?, d.inspect
    assert_equal "DPoP", d.token_type
    assert_equal holder.dpop_jkt, d.claims.dig("cnf", "jkt")

    d = dpop_auth(rs, at, p1)
    assert_equal ["DPOP_REPLAY", 401, "invalid_dpop_proof"], [d.name, d.status, d.error]
    assert_match(/\ADPoP realm="api", error="invalid_dpop_proof"/, d.challenges.last)

    d = dpop_auth(rs, at, holder.dpop_proof("GET", URL, access_token: at), method: "POST")
    assert_equal "DPOP_PROOF_MISMATCH", d.name
    d = dpop_auth(rs, at, holder.dpop_proof("GET", URL, access_token: at), url: "https://api.example.test/other")
    assert_equal "DPOP_PROOF_MISMATCH", d.name

    d = rs.authenticate(method: "GET", url: URL, authorization: "Bearer #{at}")
    assert_equal ["TOKEN_BINDING_MISMATCH", 401, "invalid_token"], [d.name, d.status, d.error]

    stranger = oauth(dpop_key: true) # another key
    d = dpop_auth(rs, at, stranger.dpop_proof("GET", URL, access_token: at))
    assert_equal "TOKEN_BINDING_MISMATCH", d.name

    d = dpop_auth(api(required_scopes: %w[admin]), at, holder.dpop_proof("GET", URL, access_token: at))
    assert_equal ["INSUFFICIENT_SCOPE", 403], [d.name, d.status]
    assert_match(/scope="admin"/, d.challenges.find { |c| c.start_with?("DPoP ") })
  end

  def test_bearer_token_from_the_idp
    t = oauth.client_credentials(scope: %w[read write], resources: [RESOURCE])
    assert_equal "Bearer", t.token_type
    d = api(required_scopes: %w[read write]).authenticate(method: "GET", url: URL,
                                                          authorization: "Bearer #{t.access_token}")
    assert d.allowed?, d.inspect
    assert_equal ["Bearer", "svc-basic"], [d.token_type, d.subject]
    d = api.authenticate(method: "GET", url: URL, authorization: "DPoP #{t.access_token}",
                         dpop: oauth(dpop_key: true).dpop_proof("GET", URL, access_token: t.access_token))
    assert_equal "TOKEN_BINDING_MISMATCH", d.name # the DPoP scheme with an unbound token
  end

  def test_a_proof_replayed_to_a_second_process_sharing_redis
    TestSupport.need(self, TestSupport.which("redis-server"), "redis-server (Debian redis-server)")
    port = TCPServer.open("127.0.0.1", 0) { |s| s.addr[1] }
    dir = Dir.mktmpdir("oidc-rb-redis")
    pid = Process.spawn("redis-server", "--port", port.to_s, "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", dir, out: File::NULL, err: File::NULL)
    redis = RespRedis.new(port)
    begin
      redis.set_nx("ping", 1)
    rescue Errno::ECONNREFUSED
      sleep 0.05
      retry
    end
    holder = oauth(dpop_key: File.read(File.join(KEYS, "dpop-ec.pem")))
    at = holder.client_credentials(scope: "read", resources: [RESOURCE]).access_token
    rs = api(dpop_replay_store: ->(k, ttl) { redis.set_nx(k, ttl) })
    p1 = holder.dpop_proof("GET", URL, access_token: at)
    assert dpop_auth(rs, at, p1).allowed?
    child = lambda do |proof, shared|
      arg = JSON.generate(iss: @idp.issuer, aud: RESOURCE, ca_file: @idp.ca_file, url: URL, token: at, proof: proof,
                          port: shared ? port : nil)
      out, st = Open3.capture2e(RbConfig.ruby, "-I", File.expand_path("../lib", __dir__),
                                File.expand_path("replay_store_child.rb", __dir__), arg)
      assert st.success?, out
      out.strip
    end
    assert_equal "DPOP_REPLAY", child.(p1, true)
    # control: without the shared store another process cannot know about a proof
    assert_equal "OK", child.(p1, false)
    p2 = holder.dpop_proof("GET", URL, access_token: at)
    assert_equal "OK", child.(p2, true) # first use in the store
    assert_equal "DPOP_REPLAY", child.(p2, true)
  ensure
    if pid
      Process.kill(:TERM, pid) # our own redis-server, by pid
      Process.wait(pid)
    end
  end
end
