// kmc: kernel threads.

#include "sync/kthread.h"

#include <string>

#include "sync/internal/prims.h"

namespace kmc::kernel {

using internal::Access;
using internal::Runtime;
using internal::TaskKind;
using internal::TaskState;

task_struct* kthread_run_impl(int (*threadfn)(void* data), void* data, const char* name,
                              const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.Step(nullptr, "kthread_run", name ? name : "", Access::kWake, loc);
  internal::AtomicSection section;
  auto& tasks = rt.mutable_tasks();
  for (TaskState& t : tasks) {
    if (t.kind != TaskKind::kKthread || t.started) continue;
    t.started = true;
    t.kthread_fn = threadfn;
    t.kthread_data = data;
    if (name) t.name = name;
    // The slot object outlives the execution's tasks; hand out its index.
    static_assert(sizeof(task_struct) == sizeof(int));
    internal::Handle h{0, 0};
    struct Slot : internal::ObjectState {
      task_struct ts;
    };
    Slot& slot = rt.Object<Slot>(h);
    slot.ts.slot = t.thread;
    internal::Unpark(t.thread, loc);
    return &slot.ts;
  }
  rt.Fail(Verdict::kModelError, "kmc: kthread_run() with no free kernel-thread slot",
          "the model starts more kernel threads than it declared with Model::KernelThreads()\n",
          loc);
}

int kthread_stop(task_struct* k, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.MightSleep("kthread_stop", loc);
  rt.Step(k, "kthread_stop", "", Access::kWake, loc);
  internal::AtomicSection section;
  auto& tasks = rt.mutable_tasks();
  TaskState& t = tasks[k->slot];
  internal::PorTouchTask(t.thread);
  t.should_stop = true;
  if (t.state != 0) {
    t.state = 0;
    internal::Unpark(t.thread, loc);
  }
  if (!t.finished) {
    TaskState& me = rt.Current();
    t.exit_waiter = me.thread;
    me.wait_object = k;
    me.wait_what = "kthread_stop(" + t.name + ")";
    me.wait_loc = loc;
    me.granted = false;
    while (!me.granted) internal::Park(false, loc);
    me.granted = false;
    me.wait_object = nullptr;
  }
  return t.exit_code;
}

bool kthread_should_stop(const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.Step(nullptr, "kthread_should_stop", "", Access::kRead, loc);
  return rt.Current().should_stop;
}

int wake_up_process(task_struct* p, const Loc& loc) {
  Runtime& rt = Runtime::Get();
  rt.Step(p, "wake_up_process", "", Access::kWake, loc);
  internal::AtomicSection section;
  TaskState& t = rt.mutable_tasks()[p->slot];
  internal::PorTouchTask(t.thread);
  if (t.state == 0) return 0;
  t.state = 0;
  internal::Unpark(t.thread, loc);
  return 1;
}

}  // namespace kmc::kernel
