"""The dataset manager lives in Windsock's Go process."""


class DatasetManager:
    pass


dataset_manager = DatasetManager()
