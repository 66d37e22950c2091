"""The deep pipeline's data side: image data sets as uint8 tensors, label protocols (`bm.labels`),
batched on-device SSL augmentations, mixup, finite and i.i.d. augmentation sets, RandAugment."""
