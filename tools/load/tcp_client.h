// TcpClient: one connection slot of refuge-load, the base of every mode's state machine.
//
// A slot has at most one socket at a time and opens a new one whenever its mode wants
// (reconnect after the server closed, reopen a slowloris connection...). This class does the
// parts every mode shares: a non-blocking connect from a chosen source address (bound with
// IP_BIND_ADDRESS_NO_PORT so the port is picked at connect time, per source address), the
// connect timeout, the per-mode cap on connects in progress (ConnectGate), buffered writes,
// reads into the loop's scratch buffer, and the connection counters of ModeStats.
//
// Callbacks never run inside a call the subclass made: an error found while sending or
// starting a connect is reported from the loop a moment later. So a subclass may call
// Send()/Connect()/Close() anywhere, and then just return.
//
// Thread-safety: single-threaded, like its loop.
#ifndef REFUGE_TOOLS_LOAD_TCP_CLIENT_H_
#define REFUGE_TOOLS_LOAD_TCP_CLIENT_H_

#include <deque>
#include <string>
#include <string_view>

#include "common/unique_fd.h"
#include "event_loop.h"
#include "ip_address.h"
#include "load_stats.h"

namespace refuge::load {

class TcpClient;

// Caps the connects in progress of one mode, so that 15,000 slowloris connections ramp up
// instead of overflowing the server's SYN backlog in one burst (which would measure the
// kernel, not the server). Connects over the cap wait in FIFO order.
class ConnectGate {
 public:
  explicit ConnectGate(int limit) : limit_(limit) {}
  bool TryAcquire() {
    if (pending_ >= limit_) return false;
    ++pending_;
    return true;
  }
  void Enqueue(TcpClient* client) { waiting_.push_back(client); }
  // One connect finished; hands its place to the next waiter, if any.
  void Release();
  void Cancel(TcpClient* client);

 private:
  int limit_;
  int pending_ = 0;
  std::deque<TcpClient*> waiting_;
};

struct TcpClientConfig {
  SocketAddress source;  // port 0
  SocketAddress target;
  ConnectGate* gate = nullptr;  // nullptr: no cap
  int receive_buffer = 0;       // SO_RCVBUF before connect; 0: the kernel's default
  TimeNs connect_timeout = 3 * kSecond;
};

class TcpClient : public LoopClient {
 public:
  TcpClient(EventLoop& loop, ModeStats& stats, TcpClientConfig config);
  ~TcpClient() override;

  // Called by ConnectGate: this slot may connect now.
  void GateOpened();
  // The source address of the next connection (the distributed flood rotates them).
  void SetSource(const SocketAddress& source) { config_.source = source; }

 protected:
  // Opens a new connection (after the gate). Ends in OnConnected() or OnConnectFailed().
  void Connect();
  // Queues bytes; an error ends in OnPeerClosed(true).
  void Send(std::string_view data);
  // Closes the socket now, with an RST when `reset` (leaves no TIME_WAIT behind on our
  // side). No callback follows.
  void Close(bool reset);
  // Whether to read (EPOLLIN). A slow reader turns it off and reads by itself with
  // ReadSome() on a timer.
  void SetWantRead(bool want);
  // Reads at most `limit` bytes now. Returns the bytes (in the loop's scratch buffer); an
  // EOF or error closes the socket and ends in OnPeerClosed().
  std::string_view ReadSome(size_t limit);
  // The subclass's own timer: OnTimer() at `when` (kNever cancels).
  void SetTimer(TimeNs when);

  bool connected() const { return connected_; }
  // True from Connect() until OnConnected()/OnConnectFailed().
  bool connecting() const { return connect_wanted_ || connecting_ || waiting_gate_; }
  bool has_socket() const { return fd_.valid(); }
  TimeNs established_at() const { return established_at_; }
  TimeNs now() const { return loop_.now(); }

  virtual void OnConnected() = 0;
  virtual void OnConnectFailed(std::string_view kind) = 0;  // kFailConnect* of load_stats.h
  virtual void OnData(std::string_view data) = 0;
  // The server closed (EOF) or reset the connection; the socket is already closed.
  virtual void OnPeerClosed(bool reset) = 0;
  virtual void OnTimer() = 0;

  // LoopClient. Subclasses extend OnStop() and call this one.
  void OnStop() override;

  EventLoop& loop_;
  ModeStats& stats_;

 private:
  void OnEvent(uint32_t events) final;
  void OnDeadline() final;
  void StartSocket();
  void FinishConnect();
  void Flush();
  void ReadAvailable();
  // Closes after an error or EOF and reports it (now, or from the loop when deferred).
  void PeerClosed(bool reset, bool defer);
  bool ReadFailed(int err);  // true if err means the connection is gone
  void ReleaseGate();
  void UpdateInterest();
  void Rearm();

  TcpClientConfig config_;
  UniqueFd fd_;
  bool connect_wanted_ = false;  // StartSocket() at the next deadline
  bool waiting_gate_ = false;
  bool holds_gate_ = false;
  bool connecting_ = false;
  bool connected_ = false;
  bool want_read_ = true;
  uint32_t interest_ = 0;
  TimeNs connect_deadline_ = kNever;
  TimeNs timer_ = kNever;
  TimeNs established_at_ = 0;
  // Failures found inside a subclass's call, reported from the loop.
  std::string_view deferred_connect_failure_;
  bool deferred_close_ = false;
  bool deferred_reset_ = false;
  std::string out_;
  size_t out_offset_ = 0;
  uint64_t socket_serial_ = 0;  // bumped by every Close(), to notice it across callbacks
};

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_TCP_CLIENT_H_
