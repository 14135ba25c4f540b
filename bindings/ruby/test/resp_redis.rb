# frozen_string_literal: true

require "socket"

# Just enough of a Redis client for the replay-store tests (Debian has no Ruby Redis client
# installed): SET key 1 NX EX ttl over RESP on one connection.
class RespRedis
  def initialize(port)
    @port = port
    @lock = Mutex.new
  end

  # true when the key was set (first use), false when it existed (a replay)
  def set_nx(key, ttl)
    @lock.synchronize do
      @sock ||= TCPSocket.new("127.0.0.1", @port)
      args = ["SET", key, "1", "NX", "EX", ttl.to_s]
      @sock.write("*#{args.size}\r\n#{args.map { |a| "$#{a.bytesize}\r\n#{a}\r\n" }.join}")
      case (line = @sock.gets)
      when "+OK\r\n" then true
      when "$-1\r\n", "_\r\n" then false
      else raise "redis: #{line.inspect}"
      end
    end
  end
end
