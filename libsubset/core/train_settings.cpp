#include "libsubset/core/train_settings.h"

#include <sstream>

namespace subset {
namespace {

std::string defaults_note(int64_t ModelDefaults::*field_int, double ModelDefaults::*field_float) {
  std::ostringstream os;
  const ModelDefaults mlp = model_defaults("mlp"), convnet = model_defaults("convnet");
  if (field_int) os << "linear, mlp " << mlp.*field_int << "; convnet " << convnet.*field_int;
  else os << "linear, mlp " << mlp.*field_float << "; convnet " << convnet.*field_float;
  return os.str();
}

}  // namespace

const SettingsSchema<TrainSettings>& train_schema() {
  using T = TrainSettings;
  static const SettingsSchema<T> schema =
      SettingsSchema<T>("train")
          .field("model", &T::model,
                 "Proxy model: linear, mlp, or convnet (the reference ConvNet of dataset condensation; needs a "
                 "store with image_shape)")
          .one_of({"linear", "mlp", "convnet"})
          .field("hidden", &T::hidden, "MLP hidden width").at_least(1).only_for({"mlp"})
          .field("epochs", &T::epochs, "Training epochs").at_least(1)
          .chosen_by(defaults_note(&ModelDefaults::epochs, nullptr))
          .field("batch", &T::batch, "Batch size").at_least(1)
          .field("lr", &T::learning_rate, "Learning rate: Adam's (linear, mlp); SGD's (convnet)").above(0)
          .chosen_by(defaults_note(nullptr, &ModelDefaults::learning_rate))
          .field("augment", &T::augment, "Augmentation of every training batch: none, or dsa (convnet only)")
          .one_of({"none", "dsa"})
          .field("momentum", &T::momentum, "SGD momentum").at_least(0).below(1).only_for({"convnet"})
          .field("weight-decay", &T::weight_decay, "SGD L2 weight decay of every parameter").at_least(0)
          .only_for({"convnet"})
          .field("device", &T::device, "cpu, cuda or cuda:N (with a CUDA build of libtorch)")
          .done();
  return schema;
}

TrainSettings resolve_defaults(TrainSettings settings) {
  const ModelDefaults d = model_defaults(settings.model);
  if (!settings.epochs) settings.epochs = d.epochs;
  if (!settings.learning_rate) settings.learning_rate = d.learning_rate;
  return settings;
}

void check_device_name(const std::string& device, const std::string& parameter) {
  bool known = device == "cpu" || device == "cuda";
  if (!known && device.rfind("cuda:", 0) == 0 && device.size() > 5 && device.size() <= 7)
    known = device.find_first_not_of("0123456789", 5) == std::string::npos;
  SUBSET_CHECK_PARAM(known, parameter, "unknown device '" << device << "' (expected cpu, cuda or cuda:N)");
}

void check_train_settings(const TrainSettings& settings) {
  train_schema().check(settings, settings.model);
  check_device_name(settings.device);
  SUBSET_CHECK_PARAM(settings.augment == "none" || settings.model == "convnet", "augment",
               "augmentation " << settings.augment << " applies to model convnet only, not " << settings.model);
}

}  // namespace subset
