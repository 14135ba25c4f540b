# frozen_string_literal: true

require_relative "test_helper"

# Signed revocation lists and drop_keys against the loopback fixture (oidc-testkit serves
# /.well-known/revocation-list, signed by its RS256 key; POST /revocation/set changes it). The
# list is polled every second here (min_interval: / max_interval: 1), so a change shows within
# a few seconds; every decision is liboidc's.
class RevocationTest < Minitest::Test
  include TestSupport

  AUD = "api://ruby"

  def setup
    @tk = Testkit.instance(self)
    @tk.admin(:post, "/revocation/set") # an empty list (a new version)
  end

  def teardown
    @clients&.each(&:close)
    @tk&.admin(:post, "/revocation/set")
  end

  def client(**kw)
    c = Oidc::Client.new(issuer: @tk.issuer, audiences: AUD, ca_file: @tk.ca_file,
                         jwks_uri: @tk.fresh_jwks_uri("revocation"), **kw)
    (@clients ||= []) << c
    c
  end

  def revocation_state
    JSON.parse(@tk.admin(:get, "/revocation"))
  end

  # Validate until liboidc has the new list (it polls every second): the error raised, or nil
  # when the token is still accepted after `secs`.
  def refused_within(c, token, secs = 8)
    deadline = Time.now + secs
    loop do
      c.validate(token)
      return nil if Time.now > deadline

      sleep 0.25
    rescue Oidc::Error => e
      return e
    end
  end

  def test_a_revoked_jti_and_a_revoked_kid_are_refused
    c = client(revocation: { policy: :fail_closed, min_interval: 1, max_interval: 1 })
    jti = "rb-#{SecureRandom.hex(6)}"
    token = @tk.token(alg: "ES256", jti: jti)
    assert_equal "test-user", c.validate(token).subject, "not revoked"
    fetches = revocation_state.fetch("fetches")
    assert_operator fetches, :>=, 1

    @tk.admin(:post, "/revocation/set", jti: jti)
    e = refused_within(c, token)
    assert_kind_of Oidc::Revoked, e
    assert_equal 316, e.code
    assert_equal 401, e.http_status
    other = @tk.token(alg: "ES256")
    assert_equal "test-user", c.validate(other).subject, "another jti of the same key"

    kid = @tk.info.fetch("kids").fetch("ES256")
    @tk.admin(:post, "/revocation/set", kid: kid)
    assert_kind_of Oidc::Revoked, refused_within(c, other), "every token of a revoked key"
    assert_raises(Oidc::Revoked) { c.validate(@tk.token(alg: "ES256")) }
    assert_equal "test-user", c.validate(@tk.token(alg: "RS256")).subject, "the other keys"
  end

  def test_prefetch_primes_the_list
    before = revocation_state.fetch("fetches")
    c = client(revocation: { policy: :fail_closed })
    assert_same c, c.prefetch
    assert_operator revocation_state.fetch("fetches"), :>, before
    # a list that cannot be had: prefetch fails, and so does validation under fail_closed
    down = client(revocation: { policy: :fail_closed, url: "#{@tk.issuer}/no-such-list" })
    assert_raises(Oidc::Error) { down.prefetch }
    e = assert_raises(Oidc::RevocationUnavailable) { down.validate(@tk.token) }
    assert_equal 503, e.http_status
    # fail_open accepts
    open = client(revocation: { policy: :fail_open, url: "#{@tk.issuer}/no-such-list" })
    assert_equal "test-user", open.validate(@tk.token).subject
  end

  def test_fail_fast_prefetch_fetches_the_list_at_construction
    before = revocation_state.fetch("fetches")
    client(revocation: { policy: :fail_closed }, prefetch: :fail_fast)
    assert_operator revocation_state.fetch("fetches"), :>, before
    assert_raises(Oidc::Error) do
      client(revocation: { policy: :fail_closed, url: "#{@tk.issuer}/no-such-list" }, prefetch: :fail_fast)
    end
  end

  def test_drop_keys_makes_the_next_validation_refetch
    c = client
    jwks = -> { @tk.stats.fetch("/jwks", 0) }
    c.validate(@tk.token)
    n = jwks.call
    c.validate(@tk.token)
    assert_equal n, jwks.call, "cached"
    assert_same c, c.drop_keys
    c.validate(@tk.token)
    assert_equal n + 1, jwks.call, "refetched after drop_keys"
    c.drop_keys(@tk.issuer)
    c.validate(@tk.token)
    assert_equal n + 2, jwks.call
    assert_raises(Oidc::InvalidArgument) { c.drop_keys("https://nope.example") }
  end
end
